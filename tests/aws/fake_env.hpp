#pragma once

// Test doubles for the credential sources' inputs: an environment and a file system made of
// maps, as config::Env and aws::FileReader.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "config/config.hpp"

namespace sab::testing {

inline config::Env env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline aws::FileReader files_of(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace sab::testing
