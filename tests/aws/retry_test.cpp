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
  for (auto k : {FailureKind::throttled, FailureKind::server_error, FailureKind::transport_error,
                 FailureKind::bad_response}) {
    CHECK(next_action(p, k, 0, false) == Action::retry);
    CHECK(next_action(p, k, 1, true) == Action::retry);
    CHECK(next_action(p, k, 2, false) == Action::fail);
  }
  for (auto k :
       {FailureKind::auth_error, FailureKind::client_error, FailureKind::permanent_transport}) {
    CHECK(next_action(p, k, 0, false) == Action::fail);
  }
  CHECK(next_action(p, FailureKind::restart, 0, false) == Action::restart);
  CHECK(next_action(p, FailureKind::restart, 0, true) == Action::fail);
  CHECK(metric_result(FailureKind::throttled) == "throttled");
  CHECK(metric_result(FailureKind::restart) == "client_error");
  CHECK(metric_result(FailureKind::permanent_transport) == "transport_error");
}
