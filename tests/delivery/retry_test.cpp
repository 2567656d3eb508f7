#include "delivery/retry.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace sab::delivery;
using namespace std::chrono;

namespace {

// Records the bounds asked for and answers a fixed fraction of them.
struct FakeRandom {
  std::vector<std::uint64_t> bounds;
  enum { zero, max, half } mode = max;
  UniformRandom fn() {
    return [this](std::uint64_t bound) -> std::uint64_t {
      bounds.push_back(bound);
      switch (mode) {
        case zero:
          return 0;
        case half:
          return bound / 2;
        case max:
          break;
      }
      return bound;
    };
  }
};

const auto kNow = sys_days{2023y / 1 / 16} + hours{2};

}  // namespace

TEST_CASE("retry: status classification") {
  for (unsigned s : {200u, 201u, 202u, 204u, 299u})
    CHECK(classify_status(s) == StatusClass::ack);
  for (unsigned s : {408u, 429u, 500u, 502u, 503u, 504u, 599u})
    CHECK(classify_status(s) == StatusClass::retry);
  for (unsigned s : {400u, 401u, 403u, 404u, 405u, 409u, 410u, 413u, 415u, 422u, 499u})
    CHECK(classify_status(s) == StatusClass::permanent);
  // Not a valid answer to a POST of events: not retried forever either.
  for (unsigned s : {100u, 301u, 302u, 304u, 600u, 0u})
    CHECK(classify_status(s) == StatusClass::permanent);
  CHECK(classify_transport_error() == StatusClass::retry);
}

TEST_CASE("retry: exponential backoff with full jitter") {
  BackoffPolicy p{milliseconds{100}, milliseconds{1000}, milliseconds{5000}};
  FakeRandom r;
  auto rnd = r.fn();
  CHECK(backoff_delay(p, 1, rnd) == milliseconds{100});
  CHECK(backoff_delay(p, 2, rnd) == milliseconds{200});
  CHECK(backoff_delay(p, 3, rnd) == milliseconds{400});
  CHECK(backoff_delay(p, 4, rnd) == milliseconds{800});
  CHECK(backoff_delay(p, 5, rnd) == milliseconds{1000});  // capped
  CHECK(backoff_delay(p, 1000000, rnd) == milliseconds{1000});
  CHECK(backoff_delay(p, 0, rnd) == milliseconds{100});
  CHECK(r.bounds == std::vector<std::uint64_t>{100, 200, 400, 800, 1000, 1000, 100});
  r.mode = FakeRandom::zero;
  CHECK(backoff_delay(p, 7, rnd) == milliseconds{0});  // full jitter reaches 0
  r.mode = FakeRandom::half;
  CHECK(backoff_delay(p, 3, rnd) == milliseconds{200});
  // A misbehaving source is clamped to the ceiling.
  UniformRandom wild = [](std::uint64_t) { return ~std::uint64_t{0}; };
  CHECK(backoff_delay(p, 2, wild) == milliseconds{200});
  // Zero base: no wait, no random draw needed.
  CHECK(backoff_delay(BackoffPolicy{milliseconds{0}, milliseconds{0}, milliseconds{0}}, 3, wild) ==
        milliseconds{0});
  // The default random source stays within the bounds.
  auto real = default_random();
  for (int i = 0; i < 1000; ++i) {
    const auto d = backoff_delay(p, 3, real);
    CHECK(d >= milliseconds{0});
    CHECK(d <= milliseconds{400});
  }
}

TEST_CASE("retry: Retry-After delta-seconds") {
  const milliseconds cap{300'000};
  CHECK(parse_retry_after("0", kNow, cap) == milliseconds{0});
  CHECK(parse_retry_after("1", kNow, cap) == milliseconds{1000});
  CHECK(parse_retry_after(" 120 ", kNow, cap) == milliseconds{120'000});
  CHECK(parse_retry_after("301", kNow, cap) == cap);
  CHECK(parse_retry_after("99999999999999999999999999", kNow, cap) == cap);
  CHECK_FALSE(parse_retry_after("", kNow, cap));
  CHECK_FALSE(parse_retry_after("-1", kNow, cap));
  CHECK_FALSE(parse_retry_after("1.5", kNow, cap));
  CHECK_FALSE(parse_retry_after("soon", kNow, cap));
  CHECK_FALSE(parse_retry_after("1 2", kNow, cap));
}

TEST_CASE("retry: Retry-After HTTP-date, all three forms") {
  const milliseconds cap{300'000};
  // kNow is Mon, 16 Jan 2023 02:00:00 GMT.
  CHECK(parse_retry_after("Mon, 16 Jan 2023 02:00:30 GMT", kNow, cap) == milliseconds{30'000});
  CHECK(parse_retry_after("Monday, 16-Jan-23 02:01:00 GMT", kNow, cap) == milliseconds{60'000});
  CHECK(parse_retry_after("Mon Jan 16 02:00:05 2023", kNow, cap) == milliseconds{5'000});
  CHECK(parse_retry_after("Mon Jan  6 02:00:05 2023", kNow, cap) == milliseconds{0});  // past
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow, cap) == milliseconds{0});
  CHECK(parse_retry_after("Tue, 17 Jan 2023 02:00:00 GMT", kNow, cap) == cap);
  CHECK(parse_retry_after("Mon, 16 Jan 2023 02:00:00 GMT", kNow + milliseconds{400}, cap) ==
        milliseconds{0});
  CHECK_FALSE(parse_retry_after("Mon, 16 Foo 2023 02:00:30 GMT", kNow, cap));
  CHECK_FALSE(parse_retry_after("Mon, 32 Jan 2023 02:00:30 GMT", kNow, cap));
  CHECK_FALSE(parse_retry_after("Mon, 30 Feb 2023 02:00:30 GMT", kNow, cap));
  CHECK_FALSE(parse_retry_after("Mon, 16 Jan 2023 25:00:30 GMT", kNow, cap));
  CHECK_FALSE(parse_retry_after("Mon, 16 Jan 2023 02:00:30 PST", kNow, cap));
  CHECK_FALSE(parse_retry_after("Mon, 16 Jan 2023 02:00 GMT", kNow, cap));
}

TEST_CASE("retry: next delay and attempt bound") {
  BackoffPolicy p{milliseconds{100}, milliseconds{1000}, milliseconds{5000}};
  FakeRandom r;
  auto rnd = r.fn();
  CHECK(next_delay(p, 3, std::nullopt, rnd) == milliseconds{400});
  CHECK(next_delay(p, 3, milliseconds{2500}, rnd) == milliseconds{2500});  // Retry-After wins
  CHECK(next_delay(p, 3, milliseconds{0}, rnd) == milliseconds{400});      // backoff still applies
  CHECK(next_delay(p, 3, milliseconds{300}, rnd) == milliseconds{400});    // the longer one
  CHECK(next_delay(p, 3, milliseconds{9000}, rnd) == milliseconds{5000});  // capped
  r.mode = FakeRandom::zero;
  CHECK(next_delay(p, 3, milliseconds{300}, rnd) == milliseconds{300});
  CHECK(may_retry(1, 0));
  CHECK(may_retry(1000000, 0));
  CHECK(may_retry(2, 3));
  CHECK_FALSE(may_retry(3, 3));
  CHECK_FALSE(may_retry(1, 1));
}
