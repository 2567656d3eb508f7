#include "events/uuid.hpp"

#include <doctest/doctest.h>

using namespace sab::events;

namespace {
// RFC 4122 appendix C name spaces.
constexpr Uuid kDns = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                       0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
constexpr Uuid kUrl = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                       0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
}  // namespace

TEST_CASE("uuid v5: known vectors (as Python's uuid.uuid5 computes them)") {
  CHECK(to_string(uuid_v5(kDns, "python.org")) == "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  CHECK(to_string(uuid_v5(kUrl, "https://example.com/")) == "dd2c1780-811a-5296-81c5-178a0ef488bc");
}

TEST_CASE("uuid v5: version and variant bits, deterministic, name-sensitive") {
  const auto a = uuid_v5(kEventNamespace, "abc");
  CHECK((a[6] >> 4) == 5);
  CHECK((a[8] & 0xC0) == 0x80);
  CHECK(a == uuid_v5(kEventNamespace, "abc"));
  CHECK(a != uuid_v5(kEventNamespace, "abd"));
  CHECK(a != uuid_v5(kDns, "abc"));
  CHECK(to_string(uuid_v5(kEventNamespace, "")).size() == 36);
}

TEST_CASE("uuid: text round trip and rejects") {
  const auto a = uuid_v5(kDns, "python.org");
  CHECK(parse_uuid(to_string(a)) == a);
  CHECK(parse_uuid("886313E1-3B8A-5372-9B90-0C9AEE199E5D") == a);
  CHECK(to_string(kEventNamespace) == "51c1a926-161d-44c6-813f-e297c7bbe443");
  CHECK_FALSE(parse_uuid("886313e1-3b8a-5372-9b90-0c9aee199e5").has_value());
  CHECK_FALSE(parse_uuid("886313e1x3b8a-5372-9b90-0c9aee199e5d").has_value());
  CHECK_FALSE(parse_uuid("886313g1-3b8a-5372-9b90-0c9aee199e5d").has_value());
  CHECK_FALSE(parse_uuid("").has_value());
}
