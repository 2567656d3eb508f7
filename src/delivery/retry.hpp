#pragma once

// The retry policy of deliveries to the target (SPEC §4): which answers are retried, backoff
// with full jitter, Retry-After. Pure: time and randomness are injected.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/url.hpp"

namespace sab::delivery {

// What an HTTP status means for the events of the request.
enum class StatusClass {
  ack,            // 2xx: delivered
  retry,          // 408, 429, 5xx: try again later
  redirect,       // 307, 308: send the same request to the Location
  misconfigured,  // any other 1xx and 3xx: the target URL is wrong; the events stay pending
  permanent,      // any other status (other 4xx): dead letter
};
StatusClass classify_status(unsigned status);

// Redirects followed per request; one more is a misconfigured target (a loop, most likely).
inline constexpr unsigned kMaxRedirects = 5;

// Where a redirect's Location leads, resolved against the URL of the request that got it (RFC
// 3986 §5: relative or absolute). Nullopt when it does not parse or is not http(s).
std::optional<net::Url> resolve_location(const net::Url& base, std::string_view location);

// A Location as logs and /readyz may show it: userinfo (a secret) removed, at most 512 bytes.
std::string loggable_location(std::string_view location);

// What to do with a 1xx/3xx answer (redirect or misconfigured) to a request for `current`,
// reached after `hops` redirects. `location` is nullopt when the answer has none.
struct RedirectStep {
  std::optional<net::Url> next;  // followed: send the same request here
  std::string problem;           // not followed: one line saying why, for logs and /readyz
};
RedirectStep redirect_step(unsigned status, const net::Url& current,
                           std::optional<std::string_view> location, unsigned hops);

// Transport errors (no complete response) are always retried.
inline constexpr StatusClass classify_transport_error() {
  return StatusClass::retry;
}

// A uniform random integer in [0, bound] (inclusive).
using UniformRandom = std::function<std::uint64_t(std::uint64_t bound)>;

// A UniformRandom over a std::random_device-seeded engine (not thread-safe; one per user).
UniformRandom default_random();

struct BackoffPolicy {
  std::chrono::milliseconds base{500};                 // ceiling of the first wait
  std::chrono::milliseconds max_delay{60'000};         // ceiling of any backoff wait
  std::chrono::milliseconds max_retry_after{300'000};  // a longer Retry-After is capped to this
};

// Exponential backoff with full jitter: a uniform wait in [0, min(max_delay, base * 2^(n-1))]
// after the n-th failed attempt (n >= 1). Overflow-safe for any n.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, unsigned failed_attempts,
                                        const UniformRandom& random);

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date (IMF-fixdate
// "Sun, 06 Nov 1994 08:49:37 GMT", or the obsolete RFC 850 and asctime forms), relative to `now`.
// A date in the past gives 0. The result is capped to `cap`. Returns nullopt when unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now,
    std::chrono::milliseconds cap);

// The wait before the next attempt: backoff_delay, or the answer's Retry-After (capped by
// policy.max_retry_after) when that is longer: never earlier than the target asked.
std::chrono::milliseconds next_delay(const BackoffPolicy& policy, unsigned failed_attempts,
                                     std::optional<std::chrono::milliseconds> retry_after,
                                     const UniformRandom& random);

// Whether another attempt is allowed after `attempts_made` attempts; max_attempts 0 = unbounded.
inline constexpr bool may_retry(unsigned attempts_made, unsigned max_attempts) {
  return max_attempts == 0 || attempts_made < max_attempts;
}

}  // namespace sab::delivery
