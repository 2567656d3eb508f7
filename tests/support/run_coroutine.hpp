#pragma once

// Runs one coroutine to its end on an io_context from a test, with a deadline: its value is
// returned and its exception rethrown; a coroutine still running at the deadline fails the test.
// The io_context is stopped as soon as the coroutine ends and restarted, ready to run again.

#include <doctest/doctest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <concepts>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace sab::test {

// `slot`, when connected, is the coroutine's cancellation slot (as bind_cancellation_slot).
template <class T>
T run_coroutine(boost::asio::io_context& ioc, boost::asio::awaitable<T> task,
                std::chrono::steady_clock::duration deadline = std::chrono::seconds{30},
                boost::asio::cancellation_slot slot = {}) {
  std::exception_ptr error;
  bool done = false;
  using Value = std::conditional_t<std::is_void_v<T>, bool, T>;
  [[maybe_unused]] std::optional<Value> value;  // unused when T is void
  const auto finish = [&](std::exception_ptr e) {
    error = e;
    done = true;
    ioc.stop();
  };
  if constexpr (std::is_void_v<T>) {
    boost::asio::co_spawn(ioc, std::move(task), boost::asio::bind_cancellation_slot(slot, finish));
  } else {
    boost::asio::co_spawn(ioc, std::move(task),
                          boost::asio::bind_cancellation_slot(slot, [&](std::exception_ptr e, T v) {
                            if (!e) value.emplace(std::move(v));
                            finish(e);
                          }));
  }
  ioc.run_for(deadline);
  ioc.restart();
  REQUIRE_MESSAGE(done, "the coroutine did not end before the deadline");
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<T>) return std::move(*value);
}

// The same for a function that makes the coroutine (a lambda coroutine: the function outlives
// the run, so what it captures stays valid).
template <class F>
requires std::invocable<F&>
auto run_coroutine(boost::asio::io_context& ioc, F make,
                   std::chrono::steady_clock::duration deadline = std::chrono::seconds{30},
                   boost::asio::cancellation_slot slot = {}) {
  return run_coroutine(ioc, make(), deadline, slot);
}

}  // namespace sab::test
