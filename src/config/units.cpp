#include "config/units.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace sab::config {
namespace {

// Reads leading decimal digits; returns the value and the rest, or nothing on overflow/no digits.
std::optional<std::pair<std::uint64_t, std::string_view>> take_number(std::string_view s) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr == s.data()) return std::nullopt;
  return std::pair{value, s.substr(static_cast<std::size_t>(ptr - s.data()))};
}

bool mul_overflows(std::uint64_t a, std::uint64_t b) {
  return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 4> kUnits{
      {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto number = take_number(rest);
    if (!number) return std::nullopt;
    rest = number->second;
    std::uint64_t factor = 0;
    for (const auto& [unit, ms] : kUnits) {
      // "ms" must win over "m".
      if (rest.starts_with(unit) && !(unit == "m" && rest.starts_with("ms"))) {
        factor = ms;
        rest.remove_prefix(unit.size());
        break;
      }
    }
    if (factor == 0 || mul_overflows(number->first, factor)) return std::nullopt;
    total += number->first * factor;
    if (total > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 2)) {
      return std::nullopt;
    }
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(total)};
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 8> kUnits{{
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"KB", 1000ull},
      {"MB", 1000'000ull},
      {"GB", 1000'000'000ull},
      {"B", 1ull},
      {"", 1ull},
  }};
  auto number = take_number(text);
  if (!number) return std::nullopt;
  for (const auto& [unit, factor] : kUnits) {
    if (number->second == unit) {
      if (mul_overflows(number->first, factor)) return std::nullopt;
      return number->first * factor;
    }
  }
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
  if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

}  // namespace sab::config
