#include "delivery/retry.hpp"

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace sab::delivery {

StatusClass classify_status(unsigned status) {
  if (status >= 200 && status <= 299) return StatusClass::ack;
  if (status == 408 || status == 429 || (status >= 500 && status <= 599)) return StatusClass::retry;
  if (status == 307 || status == 308) return StatusClass::redirect;
  // 301/302/303 may turn a POST into a GET (RFC 9110 §15.4): never followed.
  if (status >= 100 && status <= 399) return StatusClass::misconfigured;
  return StatusClass::permanent;
}

UniformRandom default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine](std::uint64_t bound) {
    return std::uniform_int_distribution<std::uint64_t>(0, bound)(*engine);
  };
}

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, unsigned failed_attempts,
                                        const UniformRandom& random) {
  const auto base = static_cast<std::uint64_t>(std::max<std::int64_t>(policy.base.count(), 0));
  const auto cap = static_cast<std::uint64_t>(std::max<std::int64_t>(policy.max_delay.count(), 0));
  std::uint64_t ceiling = base;
  for (unsigned i = 1; i < failed_attempts && ceiling < cap; ++i)
    ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  if (ceiling == 0) return std::chrono::milliseconds{0};
  const std::uint64_t r = std::min(random(ceiling), ceiling);
  return std::chrono::milliseconds{static_cast<std::int64_t>(r)};
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool parse_uint(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

int month_index(std::string_view m) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == m) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool parse_clock(std::string_view s, int& h, int& m, int& sec) {
  return s.size() == 8 && s[2] == ':' && s[5] == ':' && parse_uint(s.substr(0, 2), h) &&
         parse_uint(s.substr(3, 2), m) && parse_uint(s.substr(6, 2), sec) && h < 24 && m < 60 &&
         sec < 61;
}

// Splits on runs of `sep`.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == sep)
      ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != sep)
      ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<std::chrono::sys_seconds> make_time(int y, int mon, int d, int h, int m, int s) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mon)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{m} + seconds{s};
}

std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view s) {
  int d = 0, y = 0, h = 0, m = 0, sec = 0;
  const auto parts = split(s, ' ');
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (parts.size() == 6 && parts[0].size() == 4 && parts[0][3] == ',' && parts[5] == "GMT") {
    const int mon = month_index(parts[2]);
    if (mon != 0 && parts[1].size() == 2 && parse_uint(parts[1], d) && parts[3].size() == 4 &&
        parse_uint(parts[3], y) && parse_clock(parts[4], h, m, sec)) {
      return make_time(y, mon, d, h, m, sec);
    }
    return std::nullopt;
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
  if (parts.size() == 4 && !parts[0].empty() && parts[0].back() == ',' && parts[3] == "GMT") {
    const auto dmy = split(parts[1], '-');
    if (dmy.size() != 3) return std::nullopt;
    const int mon = month_index(dmy[1]);
    if (mon != 0 && dmy[0].size() == 2 && parse_uint(dmy[0], d) && dmy[2].size() == 2 &&
        parse_uint(dmy[2], y) && parse_clock(parts[2], h, m, sec)) {
      // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
      y += y < 70 ? 2000 : 1900;
      return make_time(y, mon, d, h, m, sec);
    }
    return std::nullopt;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (parts.size() == 5) {
    const int mon = month_index(parts[1]);
    if (mon != 0 && parts[2].size() <= 2 && parse_uint(parts[2], d) &&
        parse_clock(parts[3], h, m, sec) && parts[4].size() == 4 && parse_uint(parts[4], y)) {
      return make_time(y, mon, d, h, m, sec);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now,
    std::chrono::milliseconds cap) {
  using namespace std::chrono;
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delta-seconds; anything longer than the cap is the cap (no overflow on huge values).
    const auto cap_seconds = duration_cast<seconds>(cap).count() + 1;
    std::int64_t v = 0;
    for (char c : value) {
      v = v * 10 + (c - '0');
      if (v > cap_seconds) return cap;
    }
    return std::min(milliseconds{seconds{v}}, cap);
  }
  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  const auto delta = duration_cast<milliseconds>(*when - now);
  if (delta <= milliseconds{0}) return milliseconds{0};
  return std::min(delta, cap);
}

std::optional<net::Url> resolve_location(const net::Url& base, std::string_view location) {
  namespace urls = boost::urls;
  location = trim(location);
  if (location.empty()) return std::nullopt;
  const std::string base_text =
      std::string(base.tls ? "https://" : "http://") + base.host_header + base.target;
  const auto from = urls::parse_uri(base_text);
  const auto ref = urls::parse_uri_reference(location);
  if (!from || !ref) return std::nullopt;
  urls::url dest;
  if (urls::resolve(*from, *ref, dest).has_error()) return std::nullopt;
  dest.remove_fragment();  // never sent
  const auto text = dest.buffer();
  return net::parse_url(std::string_view(text.data(), text.size()));
}

std::string loggable_location(std::string_view location) {
  constexpr std::size_t kMax = 512;
  std::string out(location.substr(0, kMax));
  // The authority starts after "//" at the beginning or right after a scheme ("http://").
  const auto slashes = out.find("//");
  bool authority = slashes == 0;
  if (slashes != std::string::npos && slashes > 1 && out[slashes - 1] == ':') {
    authority = std::all_of(
        out.begin(), out.begin() + static_cast<std::ptrdiff_t>(slashes - 1), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        });
  }
  if (authority) {
    const auto begin = slashes + 2;
    const auto end = out.find_first_of("/?#", begin);
    const auto at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at != std::string::npos && at >= begin) out.erase(begin, at + 1 - begin);
  }
  return out;
}

RedirectStep redirect_step(unsigned status, const net::Url& current,
                           std::optional<std::string_view> location, unsigned hops) {
  RedirectStep step;
  const bool has_location = location && !trim(*location).empty();
  std::string head = "target answered HTTP " + std::to_string(status);
  if (has_location) head += " (redirect to " + loggable_location(trim(*location)) + ")";
  const auto fail = [&](std::string_view why) {
    step.problem = head + ": " + std::string(why) + "; fix target";
    return step;
  };
  if (classify_status(status) != StatusClass::redirect) {
    return fail(has_location ? "not followed" : "not an acknowledgement");
  }
  if (!has_location) return fail("no Location to follow");
  if (hops >= kMaxRedirects) {
    return fail("not followed after " + std::to_string(kMaxRedirects) + " redirects");
  }
  auto next = resolve_location(current, *location);
  if (!next) return fail("not an http(s) URL, not followed");
  if (current.tls && !next->tls) return fail("https to http, not followed");
  step.next = std::move(next);
  return step;
}

std::chrono::milliseconds next_delay(const BackoffPolicy& policy, unsigned failed_attempts,
                                     std::optional<std::chrono::milliseconds> retry_after,
                                     const UniformRandom& random) {
  const auto backoff = backoff_delay(policy, failed_attempts, random);
  if (!retry_after) return backoff;
  // Never earlier than the target asked; a "Retry-After: 0" still backs off (no hot loop).
  return std::max(std::min(*retry_after, policy.max_retry_after), backoff);
}

}  // namespace sab::delivery
