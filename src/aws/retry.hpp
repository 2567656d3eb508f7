#pragma once

// Retry policy for Cost Explorer requests: exponential backoff with full jitter, bounded. Pure;
// the randomness is injected.

#include <chrono>
#include <functional>
#include <string_view>

namespace sab::aws {

struct RetryPolicy {
  int max_retries = 6;  // after the first attempt; so at most 7 requests per page
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{30'000};
  // A complete 2xx answer that does not parse will very likely be the same answer again, and every
  // request is billed: of the retries above, at most this many follow a bad response.
  int max_bad_response_retries = 1;
};

// A uniform random number in [0, 1).
using UnitRandom = std::function<double()>;
UnitRandom default_random();  // a seeded std::mt19937_64; not thread-safe, one per client

// Full jitter: uniform in [0, min(cap, base * 2^retry)], `retry` counting from 0. `unit` outside
// [0, 1) is clamped.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit);

// What a failed attempt leads to.
enum class FailureKind {
  throttled,            // throttling answer
  server_error,         // 5xx
  transport_error,      // no complete response (reset, timeout, refused, truncated)
  bad_response,         // 2xx with a body we cannot parse
  auth_error,           // credentials rejected
  client_error,         // other 4xx
  restart,              // the paging token is no longer valid
  permanent_transport,  // a transport failure retrying cannot fix (TLS trust, too large)
};
std::string_view metric_result(FailureKind kind);  // the ce_requests result label

enum class Action { retry, restart, fail };

// `retries_done` retries were already made for this page, `bad_response_retries` of them after a
// bad response; `restarted` whether the period was already restarted once.
Action next_action(const RetryPolicy& policy, FailureKind kind, int retries_done, bool restarted,
                   int bad_response_retries);

}  // namespace sab::aws
