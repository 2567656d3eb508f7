#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sab::app {

struct Options {
  std::optional<std::string> config_path;
  bool once = false;
  std::optional<std::chrono::sys_days> date;
  std::optional<std::chrono::sys_days> from;
  std::optional<std::chrono::sys_days> to;
  bool dry_run = false;
  bool check_config = false;
  bool version = false;
  bool help = false;
};

struct ParseResult {
  Options options;
  std::string error;  // empty when the arguments are valid
};

// Pure: parses and validates argv[1..]. Both "--config F" and "--config=F" are accepted.
ParseResult parse_args(const std::vector<std::string_view>& args);

// A strict YYYY-MM-DD calendar date.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);
std::string format_date(std::chrono::sys_days day);

std::string usage();

}  // namespace sab::app
