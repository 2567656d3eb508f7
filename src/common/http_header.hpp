#pragma once

// What HTTP (RFC 9110) allows in a header field: shared by the config checks and the deliverer,
// so a header the config accepts is one the deliverer can send.

#include <algorithm>
#include <string_view>

namespace sab::common {

// A header name is a token: letters, digits and !#$%&'*+-.^_`|~, at least one.
inline bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    const bool alnum =
        (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    return alnum || std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
  });
}

// A header value holds no control character but tab (so no CR, LF or NUL), and no DEL.
inline bool valid_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7F;
  });
}

}  // namespace sab::common
