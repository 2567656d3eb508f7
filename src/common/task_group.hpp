#pragma once

// Spawned coroutines that are cancelled and awaited together: a shutdown cancels the group
// (Asio per-operation cancellation of whatever each task awaits), waits for it with a deadline,
// and only then forces what is left. Each task's failure is logged and counted.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <string>

namespace sab::common {

class TaskGroup {
 public:
  explicit TaskGroup(const boost::asio::any_io_executor& executor);
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` in the group. When it ends with an exception, the failure is logged with
  // `name` and `count` runs (e.g. a task-failure counter).
  void spawn(std::string name, boost::asio::awaitable<void> task, std::function<void()> count = {});

  // Cancels what every running task awaits. A task sees it as operation_aborted (or, with
  // throw_if_cancelled(false), in its cancellation state) and decides how to end.
  void emit(boost::asio::cancellation_type type);

  // Tasks still running.
  std::size_t size() const { return tasks_.size(); }

  // Completes once no task runs (at once when none does), or when `timeout` passes first;
  // true when the group is empty.
  boost::asio::awaitable<bool> join(
      std::chrono::steady_clock::duration timeout = std::chrono::steady_clock::duration::max());

 private:
  struct Task {
    boost::asio::cancellation_signal signal;
  };
  void finished(std::list<Task>::iterator it);

  boost::asio::any_io_executor executor_;
  std::list<Task> tasks_;
  boost::asio::steady_timer idle_;  // never expires; cancelled whenever a task ends
};

}  // namespace sab::common
