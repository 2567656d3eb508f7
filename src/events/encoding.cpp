#include "events/encoding.hpp"

#include "common/json.hpp"

namespace sab::events {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string_view lower_ascii_prefix(std::string_view s, std::string& buffer) {
  buffer.assign(s);
  for (auto& c : buffer) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return buffer;
}

void append_header_line(std::string& head, std::string_view name, std::string_view value) {
  head += name;
  head += ": ";
  head += value;
  head += "\r\n";
}

// One writer per content mode, as write_http_request documents them.

// Binary mode: Content-Type from datacontenttype, the ce- headers in order; the body is the data.
std::string_view write_binary(const Event& event, std::string& head) {
  if (!event.datacontenttype.empty()) {
    head += "Content-Type: ";
    // Never a line break in a header: control characters are dropped (the mapping never makes
    // any; this guards events read back from elsewhere).
    for (char c : event.datacontenttype) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7F) head.push_back(c);
    }
    head += "\r\n";
  }
  const auto ce = [&head](std::string_view name, std::string_view value) {
    head += name;
    head += ": ";
    append_percent_encoded(head, value);
    head += "\r\n";
  };
  ce("ce-specversion", kSpecVersion);
  ce("ce-id", event.id);
  ce("ce-source", event.source);
  ce("ce-type", event.type);
  if (!event.subject.empty()) ce("ce-subject", event.subject);
  if (!event.time.empty()) ce("ce-time", event.time);
  ce("ce-estimated", event.estimated ? "true" : "false");
  return event.data;  // sent from the event itself, no copy
}

std::string_view write_structured(const Event& event, std::string& head, std::string& body) {
  append_header_line(head, "Content-Type", kStructuredContentType);
  append_structured_json(body, event);
  return body;
}

std::string_view write_batch(std::span<const Event> events, std::string& head, std::string& body) {
  append_header_line(head, "Content-Type", kBatchContentType);
  body.push_back('[');
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i != 0) body.push_back(',');
    append_structured_json(body, events[i]);
  }
  body.push_back(']');
  return body;
}

}  // namespace

std::string_view write_http_request(config::DeliveryMode mode, std::span<const Event> events,
                                    std::string& head, std::string& body) {
  body.clear();
  switch (mode) {
    case config::DeliveryMode::binary:
      return events.empty() ? std::string_view() : write_binary(events.front(), head);
    case config::DeliveryMode::structured:
      return events.empty() ? std::string_view() : write_structured(events.front(), head, body);
    case config::DeliveryMode::batch:
      return write_batch(events, head, body);
  }
  return {};
}

void append_percent_encoded(std::string& out, std::string_view value) {
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '%') {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0x0F]);
    } else {
      out.push_back(ch);
    }
  }
}

bool is_json_content_type(std::string_view content_type) {
  std::string buffer;
  std::string_view ct = lower_ascii_prefix(content_type, buffer);
  if (const auto semi = ct.find(';'); semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ')
    ct.remove_suffix(1);
  while (!ct.empty() && ct.front() == ' ')
    ct.remove_prefix(1);
  if (ct == "application/json" || ct == "text/json") return true;
  return ct.size() > 5 && ct.substr(ct.size() - 5) == "+json";
}

void append_structured_json(std::string& out, const Event& event) {
  out += "{\"specversion\":\"1.0\",\"id\":";
  common::append_json_string(out, event.id);
  out += ",\"source\":";
  common::append_json_string(out, event.source);
  out += ",\"type\":";
  common::append_json_string(out, event.type);
  if (!event.datacontenttype.empty()) {
    out += ",\"datacontenttype\":";
    common::append_json_string(out, event.datacontenttype);
  }
  if (!event.time.empty()) {
    out += ",\"time\":";
    common::append_json_string(out, event.time);
  }
  if (!event.subject.empty()) {
    out += ",\"subject\":";
    common::append_json_string(out, event.subject);
  }
  out += event.estimated ? ",\"estimated\":true" : ",\"estimated\":false";
  if (!event.data.empty()) {
    out += ",\"data\":";
    if (event.datacontenttype.empty() || is_json_content_type(event.datacontenttype)) {
      out += event.data;  // already JSON text (made by the mapping)
    } else {
      common::append_json_string(out, event.data);
    }
  }
  out.push_back('}');
}

}  // namespace sab::events
