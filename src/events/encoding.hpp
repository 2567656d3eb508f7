#pragma once

// The CloudEvents HTTP protocol binding v1.0.2 and JSON event format v1.0: one writer per
// content mode behind events::write_http_request. Pure.

#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "events/event.hpp"

namespace sab::events {

inline constexpr std::string_view kStructuredContentType =
    "application/cloudevents+json; charset=utf-8";
inline constexpr std::string_view kBatchContentType = "application/cloudevents-batch+json";

// Writes the CloudEvents part of one HTTP request in content mode `mode`: the one writer of the
// binding, for every mode. Appends the mode's header lines ("name: value\r\n" each) to `head` and
// returns the body:
//  - binary: "Content-Type: <datacontenttype>" (when the event has one; control characters
//    dropped, no ce-datacontenttype), then ce-specversion, ce-id, ce-source, ce-type, ce-subject
//    (when set), ce-time (when set), ce-estimated: true|false, values percent-encoded; the body is
//    a view of the event's own data (no copy: valid while the event is);
//  - structured: "Content-Type: application/cloudevents+json; charset=utf-8"; the body is the
//    event's JSON (append_structured_json), written into `body`;
//  - batch: "Content-Type: application/cloudevents-batch+json"; the body is the JSON array of
//    the events' JSON, written into `body`.
// Binary and structured mode send one event: `events` holds exactly that one (an empty span
// writes nothing). `body` is cleared first in every mode (its capacity kept, for reuse between
// requests). The caller writes the request line, the other headers and Content-Length.
std::string_view write_http_request(config::DeliveryMode mode, std::span<const Event> events,
                                    std::string& head, std::string& body);

// Percent-encodes a header value as HTTP binding §3.1.3.2 requires: space, '"', '%' and every
// byte outside printable ASCII (0x21-0x7E) become %XX (UTF-8 bytes, upper-case hex). The result
// never holds CR, LF or other control characters.
void append_percent_encoded(std::string& out, std::string_view value);

// Appends the JSON event format of `event`: attributes in the order specversion, id, source, type,
// datacontenttype, time, subject, estimated (a JSON boolean), data (a JSON value when
// datacontenttype is JSON, else a JSON string).
void append_structured_json(std::string& out, const Event& event);

// Whether a content type is JSON (application/json, text/json, anything with a +json suffix).
bool is_json_content_type(std::string_view content_type);

}  // namespace sab::events
