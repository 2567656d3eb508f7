#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/event.hpp"

// CloudEvents HTTP protocol binding v1.0.2 and JSON event format v1.0. Pure.
namespace sab::events {

inline constexpr std::string_view kStructuredContentType =
    "application/cloudevents+json; charset=utf-8";
inline constexpr std::string_view kBatchContentType = "application/cloudevents-batch+json";

// One HTTP request body with its headers. Reused between requests: encode_* clear it first and
// keep the capacity.
struct EncodedRequest {
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::string body;

  void clear() {
    content_type.clear();
    headers.clear();
    body.clear();
  }
};

// Percent-encodes a header value as HTTP binding §3.1.3.2 requires: space, '"', '%' and every
// byte outside printable ASCII (0x21-0x7E) become %XX (UTF-8 bytes, upper-case hex). The result
// never holds CR, LF or other control characters.
void append_percent_encoded(std::string& out, std::string_view value);
std::string percent_decode(std::string_view value);

// Binary mode: ce-specversion, ce-id, ce-source, ce-type, ce-subject (when set), ce-time,
// ce-estimated: true|false; Content-Type from datacontenttype (no ce-datacontenttype); the data
// as the body.
void encode_binary(const Event& event, EncodedRequest& out);

// Binary mode written straight into an HTTP/1.1 header block: "Content-Type: ..." (when the event
// has a datacontenttype) and the same ce- headers as encode_binary, one "name: value\r\n" line
// each. The body is event.data as it is.
void append_binary_head(std::string& out, const Event& event);

// Appends the JSON event format of `event`: attributes in the order specversion, id, source, type,
// datacontenttype, time, subject, estimated (a JSON boolean), data (a JSON value when
// datacontenttype is JSON, else a JSON string).
void append_structured_json(std::string& out, const Event& event);

// Structured mode: one JSON event, Content-Type application/cloudevents+json; charset=utf-8.
void encode_structured(const Event& event, EncodedRequest& out);

// Batch mode: a JSON array of JSON events, Content-Type application/cloudevents-batch+json.
void encode_batch(const Event* events, std::size_t count, EncodedRequest& out);

// Whether a content type is JSON (application/json, text/json, anything with a +json suffix).
bool is_json_content_type(std::string_view content_type);

// Parses one structured-mode JSON event, as written by append_structured_json, back into an
// Event. Returns false and sets `error` (never throws) when the text is not valid JSON, not an
// object, specversion is not "1.0", a required attribute (id, source, type) is missing or an
// attribute has the wrong type. Unknown extension attributes are ignored.
bool parse_structured(std::string_view json, Event& out, std::string& error);

// Parses a batch-mode JSON array.
bool parse_batch(std::string_view json, std::vector<Event>& out, std::string& error);

}  // namespace sab::events
