#pragma once

// RFC 4122 UUIDs: version 5 (name-based, SHA-1) for the deterministic event ids, and their
// text form.

#include <array>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace sab::events {

using Uuid = std::array<std::uint8_t, 16>;

// The namespace of this service's event ids (a fixed random UUID; changing it changes every id).
inline constexpr Uuid kEventNamespace = {0x51, 0xc1, 0xa9, 0x26, 0x16, 0x1d, 0x44, 0xc6,
                                         0x81, 0x3f, 0xe2, 0x97, 0xc7, 0xbb, 0xe4, 0x43};

// RFC 4122 §4.3 name-based UUID, version 5 (SHA-1).
Uuid uuid_v5(const Uuid& name_space, std::string_view name);

// uuid_v5(name) and uuid_v5(name + suffix) at the cost of one pass over `name`.
struct UuidPair {
  Uuid plain;
  Uuid extended;
};
UuidPair uuid_v5_pair(const Uuid& name_space, std::string_view name, std::string_view suffix);

// Appends "<length>:<bytes>" to the name of a UUIDv5: length-prefixed fields, so that no two
// different field lists give the same name (and id).
// Inline: the mapping calls it for every field of every event.
inline void append_id_field(std::string& name, std::string_view field) {
  char digits[24];
  const auto r = std::to_chars(std::begin(digits), std::end(digits), field.size());
  name.append(digits, r.ptr);
  name.push_back(':');
  name.append(field);
}

// Lower-case 8-4-4-4-12 text form.
std::string to_string(const Uuid& uuid);

// Parses the 8-4-4-4-12 text form (either case).
std::optional<Uuid> parse_uuid(std::string_view text);

}  // namespace sab::events
