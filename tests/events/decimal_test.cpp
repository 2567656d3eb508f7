#include "events/decimal.hpp"

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>

using sab::events::DecimalSum;
using sab::events::normalize_decimal;

namespace {

std::string sum(std::initializer_list<const char*> amounts) {
  DecimalSum s;
  for (const char* a : amounts)
    REQUIRE_MESSAGE(s.add(a), a);
  return s.str();
}

}  // namespace

TEST_CASE("decimal: sums are exact, in plain notation") {
  CHECK(sum({}) == "0");
  CHECK(sum({"12.5", "1.25"}) == "13.75");
  CHECK(sum({"0.1", "0.2"}) == "0.3");  // not 0.30000000000000004
  CHECK(sum({"1e-10", "-0.0000000001"}) == "0");
  CHECK(sum({"1e-10", "2"}) == "2.0000000001");
  CHECK(sum({"-0", "-0.000"}) == "0");
  CHECK(sum({"0.0009189721", "-0.0009189721", "-5"}) == "-5");
  CHECK(sum({"1.5E+3", "2.5e2"}) == "1750");
  CHECK(sum({"-1", "0.25"}) == "-0.75");
  CHECK(sum({"0.25", "-1"}) == "-0.75");
  CHECK(sum({"99999999999999999999", "1"}) == "100000000000000000000");
  // 38 significant digits, beyond any double and any 64-bit integer.
  CHECK(
      sum({"12345678901234567890.123456789012345678", "12345678901234567890.123456789012345678"}) ==
      "24691357802469135780.246913578024691356");
  CHECK(sum({"1e30", "1e-30"}) == "1000000000000000000000000000000.000000000000000000000000000001");
}

TEST_CASE("decimal: the sum does not depend on the order") {
  const char* a[] = {"3.14159", "-2.5e-3", "1000", "-0.00001", "7E1"};
  DecimalSum forward, backward;
  for (const char* x : a)
    forward.add(x);
  for (auto it = std::rbegin(a); it != std::rend(a); ++it)
    backward.add(*it);
  CHECK(forward.str() == backward.str());
  CHECK(forward.str() == "1073.13908");
}

TEST_CASE("decimal: what is not a number is refused and leaves the sum alone") {
  DecimalSum s;
  s.add("1.5");
  for (const char* bad : {"", "-", ".", "e5", "1e", "1e+", "1.2.3", "abc", "1,5", " 1", "1 ", "NaN",
                          "Infinity", "1e99999", "0x10", "--1"}) {
    CAPTURE(bad);
    CHECK_FALSE(s.add(bad));
  }
  CHECK(s.str() == "1.5");
  CHECK(normalize_decimal("1.50") == "1.5");
  CHECK(normalize_decimal(".5") == "0.5");
  CHECK(normalize_decimal("5.") == "5");
  CHECK(normalize_decimal("-0.0") == "0");
  CHECK_FALSE(normalize_decimal("x"));
}

TEST_CASE("decimal: the integer fast path hands over to the exact sum without a loss") {
  // Sums past 10^17, 16 and 17 digits, scales growing and shrinking (values from Python's
  // decimal module).
  DecimalSum big;
  for (int i = 0; i < 20; ++i)
    REQUIRE(big.add("9999999999999999"));
  REQUIRE(big.add("0.0000000000000001"));
  REQUIRE(big.add("-0.5"));
  CHECK(big.str() == "199999999999999979.5000000000000001");

  DecimalSum many;
  for (int i = 0; i < 100000; ++i)
    REQUIRE(many.add("1234.5678901234"));
  CHECK(many.str() == "123456789.01234");

  CHECK(sum({"0.1", "12345678901234567", "0.00000000000000001", "-12345678901234567"}) ==
        "0.10000000000000001");
  CHECK(sum({"1.", ".5", "+2", "-0"}) == "3.5");
  CHECK(sum({"0000000000000000000000001.5", "1"}) == "2.5");
  CHECK(sum({"123456789012345678901234567890", "-123456789012345678901234567889.5"}) == "0.5");
}
