#pragma once

// The config loader's typed reads of YAML values (strings, integers, booleans, durations,
// mappings, URLs) and its unknown-key check. Each problem is collected with the path of its key,
// so one run reports them all.

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sab::config::detail {

// A value as messages name it: "a mapping", "a list", "nothing" or the scalar in quotes.
std::string describe(const YAML::Node& node);

// Every read takes the key's path ("delivery.timeout", "group_by[1].key") for its messages. A
// null or absent node leaves the output as it is and returns false without an error.
class Reader {
 public:
  std::vector<std::string> errors;

  void error(std::string_view path, std::string_view problem);

  // Rejects keys of `node` not in `known`, and keys given twice.
  void check_keys(const YAML::Node& node, std::string_view prefix,
                  std::initializer_list<std::string_view> known);

  static std::string join(std::string_view prefix, std::string_view key);

  bool string(const YAML::Node& node, std::string_view path, std::string& out);

  template <class Int>
  bool integer(const YAML::Node& node, std::string_view path, Int& out, long long min,
               long long max) {
    if (!node || node.IsNull()) return false;
    long long value = 0;
    const std::string text = node.IsScalar() ? node.Scalar() : std::string{};
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!node.IsScalar() || ec != std::errc{} || ptr != text.data() + text.size()) {
      error(path, "must be an integer, got " + describe(node));
      return false;
    }
    if (value < min || value > max) {
      error(path, "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                      std::to_string(value));
      return false;
    }
    out = static_cast<Int>(value);
    return true;
  }

  bool boolean(const YAML::Node& node, std::string_view path, bool& out);

  bool duration(const YAML::Node& node, std::string_view path, std::chrono::milliseconds& out,
                std::chrono::milliseconds min);

  // `secret`: the node may hold a secret (secret, delivery.headers); a scalar is not shown.
  bool mapping(const YAML::Node& node, std::string_view path, bool secret = false);

  // An http(s) URL with a host.
  void url(std::string_view path, const std::string& text, bool allow_path);
};

}  // namespace sab::config::detail
