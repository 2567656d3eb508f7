#pragma once

// The command line (SPEC §1): flags, the --once date selection and the options each mode
// runs with. Parsing is pure and never exits; main() decides what an error means.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dates.hpp"

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

// Dates are written and read by common/dates.hpp; the CLI's code uses them as its own.
using common::format_date;
using common::parse_date;

std::string usage();

}  // namespace sab::app
