#include "common/json.hpp"

#include <doctest/doctest.h>

using sab::common::json_string;

TEST_CASE("json: strings are escaped") {
  CHECK(json_string("plain") == "\"plain\"");
  CHECK(json_string("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_string("l1\nl2\r\t") == "\"l1\\nl2\\r\\t\"");
  CHECK(json_string(std::string_view("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
  CHECK(json_string(std::string_view("\0", 1)) == "\"\\u0000\"");
  CHECK(json_string("Amazon Elastic Compute Cloud - Compute") ==
        "\"Amazon Elastic Compute Cloud - Compute\"");
  CHECK(json_string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  CHECK(json_string("/slash") == "\"/slash\"");
}

TEST_CASE("json: invalid UTF-8 becomes U+FFFD") {
  CHECK(json_string("a\xFF"
                    "b") ==
        "\"a\xEF\xBF\xBD"
        "b\"");
  CHECK(json_string("\xC3") == "\"\xEF\xBF\xBD\"");                  // truncated sequence
  CHECK(json_string("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong
  CHECK(json_string("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

// The 8-byte scan must agree with a byte-at-a-time escaper at every position of a long string.
TEST_CASE("json: the word-at-a-time scan escapes what the byte loop would") {
  const std::string specials[] = {"\"",   "\\",       "\n",   "\x01", "\x1f",
                                  "\x7f", "\xc3\xa9", "\xff", " "};
  for (const auto& special : specials) {
    for (std::size_t pos = 0; pos < 20; ++pos) {
      std::string plain(20, 'a');
      std::string input = plain.substr(0, pos) + special + plain.substr(pos);
      std::string expected;
      sab::common::append_json_string(expected, plain.substr(0, pos));
      expected.pop_back();
      std::string middle;
      sab::common::append_json_string(middle, special);
      expected += middle.substr(1, middle.size() - 2);
      std::string tail;
      sab::common::append_json_string(tail, plain.substr(pos));
      expected += tail.substr(1);
      std::string got;
      sab::common::append_json_string(got, input);
      CHECK(got == expected);
    }
  }
}
