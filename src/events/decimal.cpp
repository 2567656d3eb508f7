#include "events/decimal.hpp"

#include <algorithm>
#include <charconv>

namespace sab::events {
namespace {

constexpr long kMaxExponent = 4096;

struct Parsed {
  bool negative = false;
  std::string digits;  // without leading zeros, "0" for zero
  std::size_t scale = 0;
};

void strip_leading_zeros(std::string& digits) {
  const auto first = digits.find_first_not_of('0');
  digits.erase(0, first == std::string::npos ? digits.size() - 1 : first);
  if (digits.empty()) digits = "0";
}

// The exponent part after 'e'/'E', if any; false when malformed or out of range.
bool parse_exponent(std::string_view text, long& exponent) {
  if (text.empty()) return true;
  if (text.front() != 'e' && text.front() != 'E') return false;
  text.remove_prefix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), exponent);
  return ec == std::errc{} && ptr == text.data() + text.size() && exponent >= -kMaxExponent &&
         exponent <= kMaxExponent;
}

std::optional<Parsed> parse(std::string_view text) {
  Parsed out;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    out.negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const auto int_end = std::min(text.find_first_not_of("0123456789"), text.size());
  std::string_view integer = text.substr(0, int_end);
  std::string_view fraction;
  text.remove_prefix(int_end);
  if (!text.empty() && text.front() == '.') {
    text.remove_prefix(1);
    const auto frac_end = std::min(text.find_first_not_of("0123456789"), text.size());
    fraction = text.substr(0, frac_end);
    text.remove_prefix(frac_end);
  }
  long exponent = 0;
  if ((integer.empty() && fraction.empty()) || !parse_exponent(text, exponent)) return std::nullopt;
  out.digits = std::string(integer) + std::string(fraction);
  long scale = static_cast<long>(fraction.size()) - exponent;
  if (scale < 0) {
    out.digits.append(static_cast<std::size_t>(-scale), '0');
    scale = 0;
  }
  out.scale = static_cast<std::size_t>(scale);
  strip_leading_zeros(out.digits);
  if (out.digits == "0") out.negative = false;
  return out;
}

// Magnitudes with the same scale: compare, add, subtract (a >= b).
int compare(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::string add_magnitudes(const std::string& a, const std::string& b) {
  std::string out;
  out.reserve(std::max(a.size(), b.size()) + 1);
  int carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry != 0; ++i) {
    int d = carry;
    if (i < a.size()) d += a[a.size() - 1 - i] - '0';
    if (i < b.size()) d += b[b.size() - 1 - i] - '0';
    out.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string subtract_magnitudes(const std::string& a, const std::string& b) {
  std::string out;
  out.reserve(a.size());
  int borrow = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    int d = (a[a.size() - 1 - i] - '0') - borrow - (i < b.size() ? b[b.size() - 1 - i] - '0' : 0);
    borrow = d < 0 ? 1 : 0;
    out.push_back(static_cast<char>('0' + (d + 10) % 10));
  }
  std::reverse(out.begin(), out.end());
  strip_leading_zeros(out);
  return out;
}

std::string plain(bool negative, std::string digits, std::size_t scale) {
  // Trailing fractional zeros say nothing about the amount.
  while (scale > 0 && digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    --scale;
  }
  if (scale > 0 && digits == "0") scale = 0;
  if (digits.size() <= scale) digits.insert(0, scale - digits.size() + 1, '0');
  std::string out = negative && digits != "0" ? "-" : "";
  out += digits.substr(0, digits.size() - scale);
  if (scale > 0) out += "." + digits.substr(digits.size() - scale);
  return out;
}

// The fast sum stays below this, so adding one more amount (< kFastLimit) never overflows.
constexpr long long kFastLimit = 100'000'000'000'000'000LL;  // 10^17
constexpr std::size_t kFastDigits = 17;

constexpr long long pow10(std::size_t n) {
  long long out = 1;
  for (std::size_t i = 0; i < n; ++i)
    out *= 10;
  return out;
}

long long magnitude(long long v) {
  return v < 0 ? -v : v;
}

}  // namespace

bool DecimalSum::add(std::string_view text) {
  if (add_fast(text)) return true;
  auto p = parse(text);
  if (!p) return false;
  add_exact(p->negative, std::move(p->digits), p->scale);
  return true;
}

bool DecimalSum::add_fast(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool negative = false;
  if (p != end && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  const char* const first = p;
  const char* point = nullptr;
  unsigned long long digits_value = 0;  // wraps harmlessly for long input, refused below
  for (; p != end; ++p) {
    const unsigned digit = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0';
    if (digit < 10) {
      digits_value = digits_value * 10 + digit;
    } else if (*p == '.' && point == nullptr) {
      point = p;
    } else {
      return false;  // an exponent, or not a number: the exact path
    }
  }
  // Up to 16 digits (leading zeros included) stay below 10^16: no overflow on the way.
  const auto digits = static_cast<std::size_t>(end - first) - (point != nullptr ? 1 : 0);
  if (digits == 0 || digits >= kFastDigits) return false;
  const std::size_t scale = point != nullptr ? static_cast<std::size_t>(end - point - 1) : 0;
  auto value = static_cast<long long>(digits_value);
  if (scale < fast_scale_) {
    const std::size_t shift = fast_scale_ - scale;
    if (shift >= kFastDigits || magnitude(value) >= kFastLimit / pow10(shift)) return false;
    value *= pow10(shift);
  } else if (scale > fast_scale_) {
    const std::size_t shift = scale - fast_scale_;
    if (shift >= kFastDigits || magnitude(fast_) >= kFastLimit / pow10(shift)) flush();
    fast_ *= pow10(shift);
    fast_scale_ = scale;
  }
  fast_ += negative ? -value : value;
  if (magnitude(fast_) >= kFastLimit) flush();
  return true;
}

void DecimalSum::flush() {
  if (fast_ != 0) {
    add_exact(fast_ < 0, std::to_string(magnitude(fast_)), fast_scale_);
    fast_ = 0;
  }
}

void DecimalSum::add_exact(bool negative, std::string digits, std::size_t scale) {
  // The same scale on both sides: the smaller one gets zeros.
  if (scale < scale_) {
    if (digits != "0") digits.append(scale_ - scale, '0');
  } else if (scale > scale_) {
    if (digits_ != "0") digits_.append(scale - scale_, '0');
    scale_ = scale;
  }
  if (negative_ == negative) {
    digits_ = add_magnitudes(digits_, digits);
  } else if (compare(digits_, digits) >= 0) {
    digits_ = subtract_magnitudes(digits_, digits);
  } else {
    digits_ = subtract_magnitudes(digits, digits_);
    negative_ = negative;
  }
  if (digits_ == "0") negative_ = false;
}

std::string DecimalSum::str() const {
  DecimalSum whole = *this;
  whole.flush();
  return plain(whole.negative_, whole.digits_, whole.scale_);
}

std::optional<std::string> normalize_decimal(std::string_view text) {
  DecimalSum sum;
  if (!sum.add(text)) return std::nullopt;
  return sum.str();
}

}  // namespace sab::events
