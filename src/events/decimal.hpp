#pragma once

// Exact sums of the decimal strings Cost Explorer sends ("0.0009189721", "-0", "1e-10"), for
// the totals of summary events: never through a float, whatever the number of digits. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace sab::events {

// A running exact sum. Accepts what JSON numbers and the API's amounts look like: an optional
// sign, digits with an optional fraction, an optional exponent (|exponent| <= 4096, so garbage
// cannot make it grow without bound).
class DecimalSum {
 public:
  // Adds `text`; false (and the sum unchanged) when it is not a decimal number.
  bool add(std::string_view text);
  // The sum in plain notation, without exponent or trailing fractional zeros: "13.75", "-0.5",
  // "0", "100000000000000000000.0000000001".
  std::string str() const;

 private:
  // The exact sum of digit strings, for any size.
  void add_exact(bool negative, std::string digits, std::size_t scale);
  // Amounts as the API sends them (no exponent, up to 17 digits) add up in an integer first,
  // without allocating; it joins the exact sum before it could overflow.
  bool add_fast(std::string_view text);
  void flush();

  bool negative_ = false;
  std::string digits_ = "0";  // magnitude without leading zeros ("0" for zero)
  std::size_t scale_ = 0;     // digits after the decimal point
  long long fast_ = 0;        // fast_ / 10^fast_scale_, |fast_| < kFastLimit
  std::size_t fast_scale_ = 0;
};

// The exact decimal of `text` in the same plain notation; nullopt when it is not a number.
std::optional<std::string> normalize_decimal(std::string_view text);

}  // namespace sab::events
