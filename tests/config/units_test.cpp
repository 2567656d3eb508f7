#include "config/units.hpp"

#include <doctest/doctest.h>

using namespace sab::config;
using std::chrono::milliseconds;

TEST_CASE("units: durations") {
  CHECK(parse_duration("500ms") == milliseconds(500));
  CHECK(parse_duration("10s") == milliseconds(10'000));
  CHECK(parse_duration("2m") == milliseconds(120'000));
  CHECK(parse_duration("1h") == milliseconds(3'600'000));
  CHECK(parse_duration("1m30s") == milliseconds(90'000));
  CHECK(parse_duration("0s") == milliseconds(0));
  CHECK_FALSE(parse_duration("10"));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("1.5s"));
  CHECK_FALSE(parse_duration("10 s"));
  CHECK_FALSE(parse_duration("10d"));
  CHECK_FALSE(parse_duration("99999999999999999999h"));
  CHECK(format_duration(milliseconds(20'000)) == "20s");
  CHECK(format_duration(milliseconds(1500)) == "1500ms");
  CHECK(format_duration(milliseconds(120'000)) == "2m");
}

TEST_CASE("units: sizes") {
  CHECK(parse_size("1024") == 1024u);
  CHECK(parse_size("64KiB") == 64u * 1024);
  CHECK(parse_size("256MiB") == 256ull * 1024 * 1024);
  CHECK(parse_size("1GiB") == 1ull << 30);
  CHECK(parse_size("10MB") == 10'000'000u);
  CHECK(parse_size("5B") == 5u);
  CHECK_FALSE(parse_size("MiB"));
  CHECK_FALSE(parse_size("1 MiB"));
  CHECK_FALSE(parse_size("1TiB"));
  CHECK_FALSE(parse_size("99999999999999999GiB"));
  CHECK(format_size(256ull << 20) == "256MiB");
  CHECK(format_size(1000) == "1000");
}
