// Backoff math and the retry decision, with injected randomness.

#include "aws/retry.hpp"

#include <doctest/doctest.h>

using namespace sab::aws;
using ms = std::chrono::milliseconds;

TEST_CASE("aws retry: exponential backoff with full jitter, capped") {
  const RetryPolicy p{6, ms{100}, ms{1000}};
  // The upper bound doubles per retry until the cap.
  CHECK(backoff_delay(p, 0, 0.999999) == ms{99});
  CHECK(backoff_delay(p, 1, 0.999999) == ms{199});
  CHECK(backoff_delay(p, 2, 0.999999) == ms{399});
  CHECK(backoff_delay(p, 3, 0.999999) == ms{799});
  CHECK(backoff_delay(p, 4, 0.999999) == ms{999});
  CHECK(backoff_delay(p, 50, 0.999999) == ms{999});
  CHECK(backoff_delay(p, 1000, 0.5) == ms{500});
  // Full jitter: anywhere from zero.
  CHECK(backoff_delay(p, 3, 0.0) == ms{0});
  CHECK(backoff_delay(p, 3, 0.5) == ms{400});
  // Out-of-range randomness is clamped, never negative or above the bound.
  CHECK(backoff_delay(p, 0, -3.0) == ms{0});
  CHECK(backoff_delay(p, 0, 7.0) == ms{100});
  CHECK(backoff_delay(p, -1, 1.0) == ms{100});
  const auto r = default_random();
  for (int i = 0; i < 1000; ++i) {
    const double u = r();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("aws retry: which failures are retried, and how often") {
  const RetryPolicy p{2, ms{1}, ms{1}};
  for (auto k : {FailureKind::throttled, FailureKind::server_error, FailureKind::transport_error}) {
    CHECK(next_action(p, k, 0, false, 0) == Action::retry);
    CHECK(next_action(p, k, 1, true, 0) == Action::retry);
    // Earlier bad responses do not shorten the retries of transient failures.
    CHECK(next_action(p, k, 1, false, 1) == Action::retry);
    CHECK(next_action(p, k, 2, false, 0) == Action::fail);
  }
  for (auto k :
       {FailureKind::auth_error, FailureKind::client_error, FailureKind::permanent_transport}) {
    CHECK(next_action(p, k, 0, false, 0) == Action::fail);
  }
  CHECK(next_action(p, FailureKind::restart, 0, false, 0) == Action::restart);
  CHECK(next_action(p, FailureKind::restart, 0, true, 0) == Action::fail);
  CHECK(metric_result(FailureKind::throttled) == "throttled");
  CHECK(metric_result(FailureKind::restart) == "client_error");
  CHECK(metric_result(FailureKind::permanent_transport) == "transport_error");
}

TEST_CASE("aws retry: a bad response is retried once, within the overall bound") {
  const RetryPolicy defaults;
  CHECK(defaults.max_retries == 6);
  CHECK(defaults.max_bad_response_retries == 1);
  // The first bad response of a page is retried, even after transient failures...
  CHECK(next_action(defaults, FailureKind::bad_response, 0, false, 0) == Action::retry);
  CHECK(next_action(defaults, FailureKind::bad_response, 5, true, 0) == Action::retry);
  // ...the second is not: 2 requests in all when every answer is bad.
  CHECK(next_action(defaults, FailureKind::bad_response, 1, false, 1) == Action::fail);
  CHECK(next_action(defaults, FailureKind::bad_response, 3, false, 1) == Action::fail);
  // The overall bound still applies.
  CHECK(next_action(defaults, FailureKind::bad_response, 6, false, 0) == Action::fail);
  // Both bounds come from the policy.
  const RetryPolicy none{6, ms{1}, ms{1}, 0};
  CHECK(next_action(none, FailureKind::bad_response, 0, false, 0) == Action::fail);
  const RetryPolicy three{6, ms{1}, ms{1}, 3};
  CHECK(next_action(three, FailureKind::bad_response, 2, false, 2) == Action::retry);
  CHECK(next_action(three, FailureKind::bad_response, 3, false, 3) == Action::fail);
}
