#pragma once

// Small text helpers shared by the credential sources (INI files, environment variables):
// trimming, lower-casing, reading a variable with a default.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace sab::aws::text {

inline std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The variable's value, or `fallback` when it is unset or empty.
inline std::string env_or(const config::Env& env, std::string_view name,
                          std::string fallback = {}) {
  if (!env) return fallback;
  auto v = env(name);
  if (!v || v->empty()) return fallback;
  return *v;
}

}  // namespace sab::aws::text
