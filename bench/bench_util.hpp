#pragma once

// Small helpers shared by the benchmark programs: arguments, the corpus, clocks, result lines,
// so each benchmark reports its ratios the same way.

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sab::bench {

// "--key value" pairs; a key given without a value is an error.
class Args {
 public:
  Args(int argc, char** argv);
  std::string get(const std::string& key, const std::string& fallback) const;
  long long number(const std::string& key, long long fallback) const;
  bool has(const std::string& key) const { return values_.contains(key); }

 private:
  std::map<std::string, std::string> values_;
};

// The pages of a corpus file written by tests/integration/support/ce_pages.py: one compact JSON
// page per line.
std::vector<std::string> read_pages(const std::string& path);

// "SERVICE,LINKED_ACCOUNT" -> two DIMENSION group-bys.
std::vector<config::GroupBy> parse_group_by(std::string_view keys);

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One result line on stdout: {"run":N,"seconds":S,<extra fields>} (values are numbers).
void print_run(int run, double seconds,
               const std::vector<std::pair<std::string, double>>& extra = {});

}  // namespace sab::bench
