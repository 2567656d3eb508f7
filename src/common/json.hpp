#pragma once

// JSON text helpers for the writers (events, logs, dead letters): string escaping that always
// yields valid UTF-8 output.

#include <string>
#include <string_view>

namespace sab::common {

// Appends `s` as a JSON string literal (with quotes). Control characters, quotes and backslashes
// are escaped; invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

inline std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

}  // namespace sab::common
