#include "support/cloudevents.hpp"

#include <simdjson.h>

#include <algorithm>

#include "events/encoding.hpp"

namespace sab::test {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
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
std::string* string_attribute(events::Event& event, std::string_view name) {
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
  if (version != events::kSpecVersion) {
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
bool read_data(simdjson::ondemand::value& value, events::Event& out, Seen& seen,
               std::string& error) {
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

bool read_attribute(const std::string& name, simdjson::ondemand::value& value, events::Event& out,
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

bool check_required(const events::Event& event, const Seen& seen, std::string& error) {
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

bool parse_object(simdjson::ondemand::object object, events::Event& out, std::string& error) {
  out = events::Event{};
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
      !events::is_json_content_type(out.datacontenttype)) {
    out.data = std::move(seen.data_string);
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> header_lines(std::string_view head) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!head.empty()) {
    auto end = head.find("\r\n");
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(std::min(head.size(), end + 2));
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos) {
      out.emplace_back(std::string(line), std::string());
    } else {
      out.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    }
  }
  return out;
}

WrittenRequest write_request(config::DeliveryMode mode, std::span<const events::Event> events) {
  WrittenRequest r;
  std::string body;
  r.body = events::write_http_request(mode, events, r.head, body);
  for (auto& [name, value] : header_lines(r.head)) {
    if (name == "Content-Type") {
      r.content_type = std::move(value);
    } else {
      r.headers.emplace_back(std::move(name), std::move(value));
    }
  }
  return r;
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

bool parse_structured(std::string_view json, events::Event& out, std::string& error) {
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

bool parse_batch(std::string_view json, std::vector<events::Event>& out, std::string& error) {
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
    events::Event event;
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
}  // namespace sab::test
