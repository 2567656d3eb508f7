#include "events/encoding.hpp"

#include <simdjson.h>

#include <utility>

#include "common/json.hpp"

namespace sab::events {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void add_header(EncodedRequest& out, std::string_view name, std::string_view value) {
  std::string encoded;
  encoded.reserve(value.size() + 8);
  append_percent_encoded(encoded, value);
  out.headers.emplace_back(std::string(name), std::move(encoded));
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string_view lower_ascii_prefix(std::string_view s, std::string& buffer) {
  buffer.assign(s);
  for (auto& c : buffer) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return buffer;
}

using simdjson::ondemand::json_type;

bool read_string(simdjson::ondemand::value& value, std::string& out, std::string_view name,
                 std::string& error) {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) {
    error = "attribute '" + std::string(name) + "' is not a JSON string";
    return false;
  }
  out.assign(s);
  return true;
}

// What parse_object has seen of the event besides its Event fields.
struct Seen {
  bool specversion = false;
  bool data = false;
  bool data_is_string = false;
  std::string data_string;  // a string `data`, unescaped
};

// The Event field a string attribute goes to, nullptr when `name` is not one.
std::string* string_attribute(Event& event, std::string_view name) {
  if (name == "id") return &event.id;
  if (name == "source") return &event.source;
  if (name == "type") return &event.type;
  if (name == "subject") return &event.subject;
  if (name == "time") return &event.time;
  if (name == "datacontenttype") return &event.datacontenttype;
  return nullptr;
}

bool read_specversion(simdjson::ondemand::value& value, std::string& error) {
  std::string version;
  if (!read_string(value, version, "specversion", error)) return false;
  if (version != kSpecVersion) {
    error = "unsupported specversion '" + version + "'";
    return false;
  }
  return true;
}

bool read_estimated(simdjson::ondemand::value& value, bool& out, std::string& error) {
  bool b = false;
  if (value.get_bool().get(b) != simdjson::SUCCESS) {
    error = "attribute 'estimated' is not a JSON boolean";
    return false;
  }
  out = b;
  return true;
}

// The JSON text of a scalar `data`, validated; a string is also kept unescaped in `seen`.
simdjson::error_code scalar_data(simdjson::ondemand::value& value, json_type type,
                                 std::string_view& raw, Seen& seen) {
  raw = trim_right(value.raw_json_token());
  if (type == json_type::string) {
    std::string_view s;
    const auto ec = value.get_string().get(s);
    if (!ec) seen.data_string.assign(s);
    seen.data_is_string = true;
    return ec;
  }
  if (type == json_type::number) {
    double ignored = 0;
    return value.get_double().get(ignored);
  }
  if (type == json_type::boolean) {
    bool ignored = false;
    return value.get_bool().get(ignored);
  }
  return value.is_null() ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
}

// `data` is kept as the JSON text it was sent as.
bool read_data(simdjson::ondemand::value& value, Event& out, Seen& seen, std::string& error) {
  json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) {
    error = "invalid JSON in 'data'";
    return false;
  }
  std::string_view raw;
  simdjson::error_code ec = simdjson::SUCCESS;
  if (type == json_type::object) {
    simdjson::ondemand::object o;
    ec = value.get_object().get(o);
    if (!ec) ec = o.raw_json().get(raw);
  } else if (type == json_type::array) {
    simdjson::ondemand::array a;
    ec = value.get_array().get(a);
    if (!ec) ec = a.raw_json().get(raw);
  } else {
    ec = scalar_data(value, type, raw, seen);
  }
  if (ec != simdjson::SUCCESS) {
    error = "invalid JSON in 'data': " + std::string(simdjson::error_message(ec));
    return false;
  }
  out.data.assign(trim_right(raw));
  seen.data = true;
  return true;
}

bool read_attribute(const std::string& name, simdjson::ondemand::value& value, Event& out,
                    Seen& seen, std::string& error) {
  if (std::string* field = string_attribute(out, name)) {
    return read_string(value, *field, name, error);
  }
  if (name == "specversion") {
    if (!read_specversion(value, error)) return false;
    seen.specversion = true;
    return true;
  }
  if (name == "estimated") return read_estimated(value, out.estimated, error);
  if (name == "data") return read_data(value, out, seen, error);
  if (name == "data_base64") {
    error = "'data_base64' is not supported";
    return false;
  }
  // Unknown extension attributes: the iteration skips their values.
  return true;
}

bool check_required(const Event& event, const Seen& seen, std::string& error) {
  if (!seen.specversion) {
    error = "missing attribute 'specversion'";
    return false;
  }
  for (auto [name, v] : {std::pair<std::string_view, const std::string*>{"id", &event.id},
                         {"source", &event.source},
                         {"type", &event.type}}) {
    if (v->empty()) {
      error = "missing attribute '" + std::string(name) + "'";
      return false;
    }
  }
  return true;
}

bool parse_object(simdjson::ondemand::object object, Event& out, std::string& error) {
  out = Event{};
  out.datacontenttype.clear();
  Seen seen;
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) {
      error = "invalid JSON in event object";
      return false;
    }
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      error = "invalid attribute name";
      return false;
    }
    const std::string name(key);  // the key view dies with the next string read
    simdjson::ondemand::value value = field.value();
    if (!read_attribute(name, value, out, seen, error)) return false;
  }
  if (!check_required(out, seen, error)) return false;
  // A string `data` of a non-JSON content type is that text, not JSON.
  if (seen.data && seen.data_is_string && !out.datacontenttype.empty() &&
      !is_json_content_type(out.datacontenttype)) {
    out.data = std::move(seen.data_string);
  }
  return true;
}

}  // namespace

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

std::string percent_decode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && hex_value(value[i + 1]) >= 0 &&
        hex_value(value[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(value[i + 1]) * 16 + hex_value(value[i + 2])));
      i += 2;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
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

namespace {

// The ce- headers of binary mode, in order, for both writers below.
template <class Emit>
void for_each_binary_header(const Event& event, Emit&& emit) {
  emit("ce-specversion", kSpecVersion);
  emit("ce-id", event.id);
  emit("ce-source", event.source);
  emit("ce-type", event.type);
  if (!event.subject.empty()) emit("ce-subject", event.subject);
  if (!event.time.empty()) emit("ce-time", event.time);
  emit("ce-estimated", event.estimated ? "true" : "false");
}

}  // namespace

void encode_binary(const Event& event, EncodedRequest& out) {
  out.clear();
  out.content_type = event.datacontenttype;
  for_each_binary_header(
      event, [&](std::string_view name, std::string_view value) { add_header(out, name, value); });
  out.body.assign(event.data);
}

void append_binary_head(std::string& out, const Event& event) {
  if (!event.datacontenttype.empty()) {
    out += "Content-Type: ";
    // Never a line break in a header: control characters are dropped (the mapping never makes
    // any; this guards events read back from elsewhere).
    for (char c : event.datacontenttype) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7F) out.push_back(c);
    }
    out += "\r\n";
  }
  for_each_binary_header(event, [&](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    append_percent_encoded(out, value);
    out += "\r\n";
  });
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

void encode_structured(const Event& event, EncodedRequest& out) {
  out.clear();
  out.content_type = kStructuredContentType;
  append_structured_json(out.body, event);
}

void encode_batch(const Event* events, std::size_t count, EncodedRequest& out) {
  out.clear();
  out.content_type = kBatchContentType;
  out.body.push_back('[');
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) out.body.push_back(',');
    append_structured_json(out.body, events[i]);
  }
  out.body.push_back(']');
}

bool parse_structured(std::string_view json, Event& out, std::string& error) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (auto ec = parser.iterate(padded).get(doc); ec != simdjson::SUCCESS) {
    error = std::string("invalid JSON: ") + simdjson::error_message(ec);
    return false;
  }
  simdjson::ondemand::object object;
  if (auto ec = doc.get_object().get(object); ec != simdjson::SUCCESS) {
    error = std::string("not a JSON object: ") + simdjson::error_message(ec);
    return false;
  }
  if (!parse_object(object, out, error)) return false;
  if (const char* rest = nullptr; doc.current_location().get(rest) == simdjson::SUCCESS) {
    error = "trailing content after the JSON event";
    return false;
  }
  return true;
}

bool parse_batch(std::string_view json, std::vector<Event>& out, std::string& error) {
  out.clear();
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (auto ec = parser.iterate(padded).get(doc); ec != simdjson::SUCCESS) {
    error = std::string("invalid JSON: ") + simdjson::error_message(ec);
    return false;
  }
  simdjson::ondemand::array array;
  if (auto ec = doc.get_array().get(array); ec != simdjson::SUCCESS) {
    error = std::string("not a JSON array: ") + simdjson::error_message(ec);
    return false;
  }
  for (auto element : array) {
    simdjson::ondemand::object object;
    if (auto ec = element.get_object().get(object); ec != simdjson::SUCCESS) {
      error = "batch element " + std::to_string(out.size()) +
              " is not a JSON object: " + simdjson::error_message(ec);
      return false;
    }
    Event event;
    if (!parse_object(object, event, error)) {
      std::string where = "batch element ";
      where += std::to_string(out.size());
      where += ": ";
      error.insert(0, where);
      return false;
    }
    out.push_back(std::move(event));
  }
  if (const char* rest = nullptr; doc.current_location().get(rest) == simdjson::SUCCESS) {
    error = "trailing content after the JSON batch";
    return false;
  }
  return true;
}

}  // namespace sab::events
