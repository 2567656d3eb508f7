#include "config/config.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/sections.hpp"
#include "config/yaml_reader.hpp"

namespace sab::config {
namespace {

std::string format_mark(const YAML::Mark& mark) {
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

}  // namespace

Env process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::optional<std::string> region_from_host(std::string_view host_name) {
  // ce.<region>.amazonaws.com or ce.<region>.amazonaws.com.cn; host names are case-insensitive
  // (and may end with the root's dot), the signing region is lower case.
  std::string lowered(host_name);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowered.ends_with('.')) lowered.pop_back();
  const std::string_view host = lowered;
  constexpr std::string_view prefix = "ce.";
  for (std::string_view suffix : {".amazonaws.com", ".amazonaws.com.cn"}) {
    if (host.starts_with(prefix) && host.ends_with(suffix) &&
        host.size() > prefix.size() + suffix.size()) {
      auto region = host.substr(prefix.size(), host.size() - prefix.size() - suffix.size());
      if (region.find('.') == std::string_view::npos) return std::string(region);
    }
  }
  return std::nullopt;
}

LoadResult load_from_string(std::string_view yaml, const Env& env) {
  LoadResult result;
  detail::Reader r;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    result.errors.push_back("yaml: " + format_mark(e.mark) + ": " + e.msg);
    return result;
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    result.errors.push_back("(top level): must be a mapping of keys, got " +
                            detail::describe(root));
    return result;
  }
  try {
    Config c = detail::read_config(r, root, env);
    result.errors = std::move(r.errors);
    if (result.errors.empty()) result.config = std::move(c);
  } catch (const YAML::Exception& e) {
    result.errors = std::move(r.errors);
    result.errors.push_back("yaml: " + format_mark(e.mark) + ": " + e.msg);
  }
  return result;
}

LoadResult load_file(const std::string& path, const Env& env) {
  std::error_code dir_ec;
  if (std::filesystem::is_directory(path, dir_ec)) {
    LoadResult result;
    result.errors.push_back("config file '" + path + "': cannot be read: is a directory");
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // Say why, and what fixes it: in a container the service runs as a non-root uid that a
    // mounted 0600 file owned by root does not let in.
    const int err = ::access(path.c_str(), R_OK) == 0 ? EIO : errno;
    LoadResult result;
    std::string message = "config file '" + path + "': cannot be read: " + std::strerror(err);
    if (err == EACCES || err == EPERM) {
      const auto uid = std::to_string(::geteuid());
      message += " (this process runs as uid " + uid +
                 ": make the file readable for it, e.g. chmod 0644 '" + path + "' or chown " + uid +
                 " '" + path + "')";
    } else if (err == ENOENT) {
      message += " (mount or write the config there, or name it with --config or CONNECTOR_CONFIG)";
    }
    result.errors.push_back(std::move(message));
    return result;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  LoadResult result = load_from_string(buffer.str(), env);
  if (result.config) {
    result.config->source_path = path;
    struct stat st {};
    const auto& s = result.config->secret;
    const bool holds_secrets = !s.secret_access_key.empty() || !s.session_token.empty() ||
                               !result.config->delivery.headers.empty();
    if (holds_secrets && ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH))) {
      result.warnings.push_back("config file '" + path +
                                "' holds secrets and is readable by group or others; "
                                "chmod 600 it or move the secrets to the environment");
    }
  }
  return result;
}

std::string resolve_path(const std::optional<std::string>& cli_path, const Env& env) {
  if (cli_path && !cli_path->empty()) return *cli_path;
  if (auto p = env("CONNECTOR_CONFIG"); p && !p->empty()) return *p;
  return std::string(kDefaultConfigPath);
}

std::string_view to_string(Granularity g) {
  return g == Granularity::daily ? "DAILY" : "MONTHLY";
}

std::string_view to_string(DeliveryMode m) {
  switch (m) {
    case DeliveryMode::binary:
      return "binary";
    case DeliveryMode::structured:
      return "structured";
    case DeliveryMode::batch:
      return "batch";
  }
  return "binary";
}

std::string_view to_string(LogLevel l) {
  return log::to_string(to_log_level(l));
}

log::Level to_log_level(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return log::Level::debug;
    case LogLevel::info:
      return log::Level::info;
    case LogLevel::warn:
      return log::Level::warn;
    case LogLevel::error:
      return log::Level::error;
  }
  return log::Level::info;
}

log::Format to_log_format(LogFormat f) {
  return f == LogFormat::json ? log::Format::json : log::Format::text;
}

std::string_view to_string(LogFormat f) {
  return f == LogFormat::json ? "json" : "text";
}

}  // namespace sab::config
