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
  for (unsigned s : {600u, 0u, 99u})
    CHECK(classify_status(s) == StatusClass::permanent);
  // Followed with the same method and body.
  CHECK(classify_status(307) == StatusClass::redirect);
  CHECK(classify_status(308) == StatusClass::redirect);
  // 301/302/303 may turn a POST into a GET; 1xx and 304 acknowledge nothing: fix the target.
  for (unsigned s : {100u, 101u, 103u, 199u, 300u, 301u, 302u, 303u, 304u, 305u, 306u, 399u})
    CHECK(classify_status(s) == StatusClass::misconfigured);
  CHECK(classify_transport_error() == StatusClass::retry);
}

namespace {

sab::net::Url url(std::string_view text) {
  auto u = sab::net::parse_url(text);
  REQUIRE(u);
  return *u;
}

std::string full(const std::optional<sab::net::Url>& u) {
  if (!u) return "<none>";
  return std::string(u->tls ? "https://" : "http://") + u->host_header + u->target + " (" +
         u->host + " " + u->port + ")";
}

}  // namespace

TEST_CASE("redirect: Location resolved against the URL that answered, relative or absolute") {
  const auto base = url("http://sink.example:8080/in/events?tenant=1");
  CHECK(full(resolve_location(base, "/moved")) ==
        "http://sink.example:8080/moved (sink.example 8080)");
  CHECK(full(resolve_location(base, "moved?x=1")) ==
        "http://sink.example:8080/in/moved?x=1 (sink.example 8080)");
  CHECK(full(resolve_location(base, "../up")) == "http://sink.example:8080/up (sink.example 8080)");
  CHECK(full(resolve_location(base, "?page=2")) ==
        "http://sink.example:8080/in/events?page=2 (sink.example 8080)");
  CHECK(full(resolve_location(base, "https://other.example/ce")) ==
        "https://other.example/ce (other.example 443)");
  CHECK(full(resolve_location(base, "//other.example:9000/ce")) ==
        "http://other.example:9000/ce (other.example 9000)");
  CHECK(full(resolve_location(base, "  /spaced  ")) ==
        "http://sink.example:8080/spaced (sink.example 8080)");
  CHECK(full(resolve_location(base, "/frag#part")) ==
        "http://sink.example:8080/frag (sink.example 8080)");
  CHECK(full(resolve_location(url("https://[::1]:8443/a"), "/b")) ==
        "https://[::1]:8443/b (::1 8443)");
  // Userinfo is never sent on.
  CHECK(full(resolve_location(base, "http://user:pw@other.example/x")) ==
        "http://other.example/x (other.example 80)");
  CHECK_FALSE(resolve_location(base, ""));
  CHECK_FALSE(resolve_location(base, "ftp://files.example/x"));
  CHECK_FALSE(resolve_location(base, "mailto:ops@example.com"));
  CHECK_FALSE(resolve_location(base, "http://"));
  CHECK_FALSE(resolve_location(base, "http://bad host/"));
}

TEST_CASE("redirect: a Location as logs show it has no userinfo and a bounded length") {
  CHECK(loggable_location("http://user:secret@host.example/x") == "http://host.example/x");
  CHECK(loggable_location("https://token@host.example") == "https://host.example");
  CHECK(loggable_location("//u:p@host.example/x?y=@z") == "//host.example/x?y=@z");
  CHECK(loggable_location("http://a@b@host.example:81/") == "http://host.example:81/");
  CHECK(loggable_location("/relative/path@x") == "/relative/path@x");
  CHECK(loggable_location("/a//b@c") == "/a//b@c");
  CHECK(loggable_location("http://host.example/p@q") == "http://host.example/p@q");
  CHECK(loggable_location(std::string(2000, 'a')).size() == 512);
}

TEST_CASE("redirect: 307/308 followed up to 5 hops, never https to http; the rest is a problem") {
  const auto http_url = url("http://127.0.0.1:8080/events");
  const auto https_url = url("https://sink.example/events");

  auto step = redirect_step(307, http_url, "/moved", 0);
  CHECK(full(step.next) == "http://127.0.0.1:8080/moved (127.0.0.1 8080)");
  CHECK(step.problem.empty());
  step = redirect_step(308, http_url, "https://sink.example/ce", 4);
  CHECK(full(step.next) == "https://sink.example/ce (sink.example 443)");
  step = redirect_step(308, https_url, "https://other.example/ce", 0);  // https -> https
  CHECK(step.next);

  step = redirect_step(307, http_url, "/moved", 5);
  CHECK_FALSE(step.next);
  CHECK(
      step.problem ==
      "target answered HTTP 307 (redirect to /moved): not followed after 5 redirects; fix target");
  step = redirect_step(308, https_url, "http://sink.example/events", 0);
  CHECK_FALSE(step.next);
  CHECK(step.problem ==
        "target answered HTTP 308 (redirect to http://sink.example/events): https to http, not "
        "followed; fix target");
  step = redirect_step(307, http_url, std::nullopt, 0);
  CHECK_FALSE(step.next);
  CHECK(step.problem == "target answered HTTP 307: no Location to follow; fix target");
  step = redirect_step(307, http_url, "ftp://x/", 0);
  CHECK_FALSE(step.next);
  CHECK(step.problem ==
        "target answered HTTP 307 (redirect to ftp://x/): not an http(s) URL, not followed; fix "
        "target");

  step = redirect_step(302, http_url, "http://u:secret@sink.example/login", 0);
  CHECK_FALSE(step.next);
  CHECK(
      step.problem ==
      "target answered HTTP 302 (redirect to http://sink.example/login): not followed; fix target");
  for (unsigned s : {301u, 303u, 300u}) {
    step = redirect_step(s, http_url, "/elsewhere", 0);
    CHECK_FALSE(step.next);
    CHECK(step.problem == "target answered HTTP " + std::to_string(s) +
                              " (redirect to /elsewhere): not followed; fix target");
  }
  step = redirect_step(304, http_url, std::nullopt, 0);
  CHECK(step.problem == "target answered HTTP 304: not an acknowledgement; fix target");
  step = redirect_step(100, http_url, std::nullopt, 0);
  CHECK(step.problem == "target answered HTTP 100: not an acknowledgement; fix target");
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
