#include "bench_util.hpp"

#include <fstream>
#include <stdexcept>

namespace sab::bench {

Args::Args(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--"))
      throw std::invalid_argument("unexpected argument " + std::string(arg));
    if (i + 1 >= argc) throw std::invalid_argument(std::string(arg) + " needs a value");
    values_[std::string(arg.substr(2))] = argv[++i];
  }
}

std::string Args::get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

long long Args::number(const std::string& key, long long fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : std::stoll(it->second);
}

std::vector<std::string> read_pages(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read corpus " + path);
  std::vector<std::string> pages;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) pages.push_back(std::move(line));
  }
  if (pages.empty()) throw std::runtime_error("empty corpus " + path);
  return pages;
}

std::vector<config::GroupBy> parse_group_by(std::string_view keys) {
  std::vector<config::GroupBy> out;
  while (!keys.empty()) {
    const auto comma = keys.find(',');
    out.push_back({"DIMENSION", std::string(keys.substr(0, comma))});
    if (comma == std::string_view::npos) break;
    keys.remove_prefix(comma + 1);
  }
  return out;
}

void print_run(int run, double seconds, const std::vector<std::pair<std::string, double>>& extra) {
  std::printf("{\"run\":%d,\"seconds\":%.9f", run, seconds);
  for (const auto& [name, value] : extra)
    std::printf(",\"%s\":%.17g", name.c_str(), value);
  std::printf("}\n");
  std::fflush(stdout);
}

}  // namespace sab::bench
