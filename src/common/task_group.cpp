#include "common/task_group.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>

#include "common/tasks.hpp"

namespace sab::common {
namespace asio = boost::asio;

TaskGroup::TaskGroup(const asio::any_io_executor& executor)
    : executor_(executor), idle_(executor, asio::steady_timer::time_point::max()) {}

void TaskGroup::spawn(std::string name, asio::awaitable<void> task, std::function<void()> count) {
  auto it = tasks_.emplace(tasks_.end());
  asio::co_spawn(executor_, std::move(task),
                 asio::bind_cancellation_slot(
                     it->signal.slot(), [this, it, name = std::move(name),
                                         count = std::move(count)](const std::exception_ptr& e) {
                       log_task_failure(name, e, count);
                       // The task's signal goes once its completion has fully unwound.
                       asio::post(executor_, [this, it] { finished(it); });
                     }));
}

void TaskGroup::finished(std::list<Task>::iterator it) {
  tasks_.erase(it);
  idle_.cancel();
}

void TaskGroup::emit(asio::cancellation_type type) {
  for (auto& task : tasks_)
    task.signal.emit(type);
}

asio::awaitable<bool> TaskGroup::join(std::chrono::steady_clock::duration timeout) {
  using namespace asio::experimental::awaitable_operators;
  const auto deadline = timeout == std::chrono::steady_clock::duration::max()
                            ? asio::steady_timer::time_point::max()
                            : std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(executor_, deadline);
  while (!tasks_.empty()) {
    // idle_ is cancelled at every task's end; the timer ends the wait at the deadline.
    auto result = co_await (idle_.async_wait(nothrow) || timer.async_wait(nothrow));
    if (result.index() == 1) break;
  }
  co_return tasks_.empty();
}

}  // namespace sab::common
