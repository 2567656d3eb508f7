// Fuzz target: the CloudEvents writer (events::write_http_request) in its three content modes.
// Input (FuzzedDataProvider): id, source, type, subject, time, a content type choice, data and the
// estimated flag. Any bytes are allowed in every field, invalid UTF-8 included.
// Properties:
//  - structured mode: write_http_request then parse_structured succeeds (when id, source and
//    type are not empty; else it fails with an error) and gives back the event, where every
//    string is compared with its expected sanitized form: each byte that does not start a valid
//    UTF-8 sequence becomes U+FFFD (the JSON writer's documented rule, recomputed here
//    independently). With a JSON content type the data is JSON text made by the mapping; the
//    harness makes it a JSON string or object holding the fuzzed bytes.
//  - the batch form of two copies parses back to two equal events.
//  - binary mode: no ce- header value holds a byte below 0x21 or above 0x7E (so no CR, LF or
//    other control bytes), and percent_decode of each value gives the original field; the head
//    is one line per header whatever the datacontenttype holds (no CR or LF but the line ends),
//    Content-Type first when there is a datacontenttype; the body is the event's data itself.
// The decoders (parse_structured, parse_batch, percent_decode, header_lines) are the tests' own
// (tests/support/cloudevents.hpp).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "events/encoding.hpp"
#include "support/cloudevents.hpp"

namespace ev = sab::events;
namespace t = sab::test;
using sab::config::DeliveryMode;

namespace {

// Independent of common/json.cpp: a byte that does not start a valid UTF-8 sequence (RFC 3629:
// shortest form, no surrogates, at most U+10FFFF) is replaced by U+FFFD.
std::string sanitized(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (b0 < 0x80) {
      len = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len >= 3) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      if (b0 == 0xE0 && b1 < 0xA0) ok = false;  // overlong
      if (b0 == 0xED && b1 > 0x9F) ok = false;  // surrogate
      if (b0 == 0xF0 && b1 < 0x90) ok = false;  // overlong
      if (b0 == 0xF4 && b1 > 0x8F) ok = false;  // above U+10FFFF
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
  std::abort();
}

void check_equal(const ev::Event& expected, const ev::Event& got, const std::string& json) {
  auto field = [&](const char* name, const std::string& a, const std::string& b) {
    if (a != b) fail(name, "differs after the round trip through " + json);
  };
  field("id", expected.id, got.id);
  field("source", expected.source, got.source);
  field("type", expected.type, got.type);
  field("subject", expected.subject, got.subject);
  field("time", expected.time, got.time);
  field("datacontenttype", expected.datacontenttype, got.datacontenttype);
  field("data", expected.data, got.data);
  if (expected.estimated != got.estimated) fail("estimated", json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  ev::Event event;
  event.id = in.ConsumeRandomLengthString(64);
  event.source = in.ConsumeRandomLengthString(64);
  event.type = in.ConsumeRandomLengthString(64);
  event.subject = in.ConsumeRandomLengthString(256);
  event.time = in.ConsumeRandomLengthString(40);
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      event.datacontenttype = "application/json";
      break;
    case 1:
      event.datacontenttype = "";
      break;
    case 2:
      event.datacontenttype = "text/plain";
      break;
    case 3:
      event.datacontenttype = "application/cloudevents+json; charset=utf-8";
      break;
    default:
      event.datacontenttype = in.ConsumeRandomLengthString(64);
  }
  event.estimated = in.ConsumeBool();
  const int data_shape = in.ConsumeIntegralInRange(0, 2);
  const std::string raw = in.ConsumeRemainingBytesAsString();
  const bool json_data =
      event.datacontenttype.empty() || ev::is_json_content_type(event.datacontenttype);

  ev::Event expected = event;
  expected.id = sanitized(event.id);
  expected.source = sanitized(event.source);
  expected.type = sanitized(event.type);
  expected.subject = sanitized(event.subject);
  expected.time = sanitized(event.time);
  expected.datacontenttype = sanitized(event.datacontenttype);
  if (json_data) {
    // JSON text as the mapping makes it: the encoder writes it as it is.
    if (data_shape == 0) {
      event.data = sab::common::json_string(raw);
    } else if (data_shape == 1) {
      event.data = "{\"service\":" + sab::common::json_string(raw) + ",\"n\":[1,2.5,true,null]}";
    } else {
      event.data = raw.empty() ? "" : "[" + sab::common::json_string(raw) + "]";
    }
    expected.data = event.data;
  } else {
    event.data = raw;
    expected.data = sanitized(raw);
  }

  // Structured mode round trip.
  std::string head;
  std::string json;
  ev::write_http_request(DeliveryMode::structured, {&event, 1}, head, json);
  if (head != "Content-Type: application/cloudevents+json; charset=utf-8\r\n")
    fail("structured head", head);
  ev::Event parsed;
  std::string error;
  const bool ok = t::parse_structured(json, parsed, error);
  const bool must_parse = !event.id.empty() && !event.source.empty() && !event.type.empty();
  if (ok != must_parse)
    fail(ok ? "parsed without id/source/type" : "does not parse back", error + " in " + json);
  if (!ok) {
    if (error.empty()) fail("no error message", json);
    return 0;
  }
  check_equal(expected, parsed, json);

  // Batch mode.
  const ev::Event pair[2] = {event, event};
  std::string body;
  head.clear();
  ev::write_http_request(DeliveryMode::batch, pair, head, body);
  if (head != "Content-Type: application/cloudevents-batch+json\r\n") fail("batch head", head);
  std::vector<ev::Event> batch;
  if (!t::parse_batch(body, batch, error)) fail("batch does not parse back", error);
  if (batch.size() != 2) fail("batch size", body);
  check_equal(expected, batch[0], body);
  check_equal(expected, batch[1], body);

  // Binary mode: the head, one line per header.
  head.clear();
  const std::string_view data =
      ev::write_http_request(DeliveryMode::binary, {&event, 1}, head, body);
  if (data.data() != event.data.data() || data.size() != event.data.size())
    fail("binary body", std::string(data));
  auto original = [&](const std::string& name) -> std::string {
    if (name == "ce-specversion") return "1.0";
    if (name == "ce-id") return event.id;
    if (name == "ce-source") return event.source;
    if (name == "ce-type") return event.type;
    if (name == "ce-subject") return event.subject;
    if (name == "ce-time") return event.time;
    if (name == "ce-estimated") return event.estimated ? "true" : "false";
    fail("unexpected header", name);
    return {};
  };
  if (!head.ends_with("\r\n")) fail("binary head does not end a line", head);
  std::size_t line = 0;
  for (const auto& [name, value] : t::header_lines(head)) {
    const bool content_type = line++ == 0 && !event.datacontenttype.empty();
    if (content_type) {
      if (name != "Content-Type") fail("Content-Type line", name);
      std::string printable;  // datacontenttype without its control bytes
      for (const char c : event.datacontenttype) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7F) printable.push_back(c);
      }
      if (value != printable) fail("Content-Type value", value);
      continue;
    }
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x21 || u > 0x7E) fail("raw byte in a header value", name);
    }
    if (t::percent_decode(value) != original(name)) fail("percent_decode differs", name);
  }
  return 0;
}
