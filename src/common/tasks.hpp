#pragma once

// Helpers for the coroutines of every layer: a completion token that returns errors instead of
// throwing them, and one way to log (and count) a spawned task that failed.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace sab::common {

// `co_await op(..., nothrow)` yields a tuple (error_code, results...) instead of throwing.
inline constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

// The message of a task's exception ("unknown error" when it is no std::exception).
std::string describe(const std::exception_ptr& e);

// For co_spawn completion handlers: when `e` holds an exception, logs it with the task's name,
// runs `count` (e.g. a failure counter) and returns true.
bool log_task_failure(std::string_view task, const std::exception_ptr& e,
                      const std::function<void()>& count = {});

}  // namespace sab::common
