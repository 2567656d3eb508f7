#include "config/yaml_reader.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>

#include "config/render.hpp"
#include "config/units.hpp"

namespace sab::config::detail {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "an undefined value";
  }
}

void Reader::error(std::string_view path, std::string_view problem) {
  errors.push_back(std::string(path) + ": " + std::string(problem));
}

void Reader::check_keys(const YAML::Node& node, std::string_view prefix,
                        std::initializer_list<std::string_view> known) {
  std::vector<std::string> seen;
  for (const auto& item : node) {
    std::string key = item.first.IsScalar() ? item.first.Scalar() : "?";
    if (key.empty()) key = "\"\"";  // so the error still shows a key
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      error(join(prefix, key), "unknown key");
    } else if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      // YAML forbids it, yet yaml-cpp keeps the first and drops the second without a word.
      error(join(prefix, key), "is given twice");
    } else {
      seen.push_back(key);
    }
  }
}

std::string Reader::join(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

bool Reader::string(const YAML::Node& node, std::string_view path, std::string& out) {
  if (!node || node.IsNull()) return false;
  if (!node.IsScalar()) {
    error(path, "must be a string, got " + describe(node));
    return false;
  }
  out = node.Scalar();
  return true;
}

bool Reader::boolean(const YAML::Node& node, std::string_view path, bool& out) {
  if (!node || node.IsNull()) return false;
  if (node.IsScalar()) {
    std::string v = node.Scalar();
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    if (v == "true" || v == "yes" || v == "on") return out = true, true;
    if (v == "false" || v == "no" || v == "off") return out = false, true;
  }
  error(path, "must be true or false, got " + describe(node));
  return false;
}

bool Reader::duration(const YAML::Node& node, std::string_view path, std::chrono::milliseconds& out,
                      std::chrono::milliseconds min) {
  std::string text;
  if (!string(node, path, text)) return false;
  auto d = parse_duration(text);
  if (!d) {
    error(path, "must be a duration like 500ms, 10s or 2m, got '" + text + "'");
    return false;
  }
  if (*d < min) {
    error(path, "must be at least " + format_duration(min) + ", got '" + text + "'");
    return false;
  }
  out = *d;
  return true;
}

bool Reader::mapping(const YAML::Node& node, std::string_view path, bool secret) {
  if (!node || node.IsNull()) return false;
  if (!node.IsMap()) {
    const std::string got =
        secret && node.IsScalar() ? "a value (not shown: it may be a secret)" : describe(node);
    error(path, "must be a mapping, got " + got);
    return false;
  }
  return true;
}

void Reader::url(std::string_view path, const std::string& text, bool allow_path) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    error(path, "must be an http or https URL, got '" + mask_url(text) + "'");
    return;
  }
  const auto& u = *parsed;
  if (u.scheme() != "http" && u.scheme() != "https") {
    error(path, "scheme must be http or https, got '" + std::string(u.scheme()) + "'");
  } else if (u.host().empty()) {
    error(path, "has no host: '" + mask_url(text) + "'");
  } else if (u.has_port() && (u.port_number() == 0)) {
    error(path, "has an invalid port: '" + mask_url(text) + "'");
  } else if (!allow_path && !(u.path().empty() || u.path() == "/")) {
    error(path, "must not have a path: '" + mask_url(text) + "'");
  }
}

}  // namespace sab::config::detail
