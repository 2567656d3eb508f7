#include "common/dates.hpp"

#include <charconv>
#include <cstdio>

namespace sab::common {

std::optional<Day> parse_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    auto [p, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, v);
    if (ec != std::errc{} || p != t.data() + pos + len) return std::nullopt;
    return v;
  };
  auto y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (!y || !m || !d || *m < 1 || *d < 1) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*y},
                                        std::chrono::month{static_cast<unsigned>(*m)},
                                        std::chrono::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *y < 1970) return std::nullopt;
  return Day{ymd};
}

std::string format_date(Day day) {
  const std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace sab::common
