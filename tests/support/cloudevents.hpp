#pragma once

// Test-only readers of what events::write_http_request writes: the header lines split into
// name/value pairs, and decoders of the binding (percent-decoding, the JSON event format). The
// service never reads CloudEvents back, so these live with the tests (unit tests and fuzz targets).

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "events/event.hpp"

namespace sab::test {

// The header lines of a head ("name: value\r\n" each, as write_http_request appends them), in
// order. A line without ": " gives a pair with an empty value and the whole line as its name.
std::vector<std::pair<std::string, std::string>> header_lines(std::string_view head);

// One request as events::write_http_request writes it, read back.
struct WrittenRequest {
  std::string head;  // the header lines as written
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::string body;
};
WrittenRequest write_request(config::DeliveryMode mode, std::span<const events::Event> events);

// Reverses events::append_percent_encoded: %XX becomes its byte; malformed escapes are kept.
std::string percent_decode(std::string_view value);

// Parses one structured-mode JSON event, as written by append_structured_json, back into an
// Event. Returns false and sets `error` (never throws) when the text is not valid JSON, not an
// object, specversion is not "1.0", a required attribute (id, source, type) is missing or an
// attribute has the wrong type. Unknown extension attributes are ignored.
bool parse_structured(std::string_view json, events::Event& out, std::string& error);

// Parses a batch-mode JSON array.
bool parse_batch(std::string_view json, std::vector<events::Event>& out, std::string& error);

}  // namespace sab::test
