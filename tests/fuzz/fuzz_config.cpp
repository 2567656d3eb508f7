// Fuzz target: the config loader (config::load_from_string) and what is done with a loaded config.
// Input: a YAML document. Properties:
//  - never crashes or throws; a config is returned exactly when there are no errors;
//  - every error names its key ("<key path>: <problem>"), or is a YAML syntax error ("yaml: ...")
//    or a problem of the top level ("(top level): ...");
//  - a loaded config can be shown (render_masked), that text loads again without errors, and
//    it gives a valid Cost Explorer request body (its filter included).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "aws/cost_explorer.hpp"
#include "config/config.hpp"

namespace {

std::optional<std::string> no_env(std::string_view) {
  return std::nullopt;
}

void check_errors(const sab::config::LoadResult& result, std::string_view input) {
  if (result.config.has_value() == !result.errors.empty()) std::abort();
  for (const auto& e : result.errors) {
    // A key path before ": <problem>". An unknown key is shown as written, and may itself hold
    // ": ", so there only the text before the final ": unknown key" is checked.
    constexpr std::string_view kUnknown = ": unknown key";
    const bool unknown = e.size() >= kUnknown.size() &&
                         e.compare(e.size() - kUnknown.size(), kUnknown.size(), kUnknown) == 0;
    const auto colon = unknown ? e.size() - kUnknown.size() : e.find(": ");
    if (colon == std::string::npos || colon == 0) {
      std::fprintf(stderr, "error without a key: '%s'\ninput:\n%.*s\n", e.c_str(),
                   static_cast<int>(input.size()), input.data());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const sab::config::LoadResult result = sab::config::load_from_string(yaml, no_env);
  check_errors(result, yaml);
  if (!result.config) return 0;
  const sab::config::Config& config = *result.config;

  (void)sab::config::secret_values(config);
  const std::string shown = sab::config::render_masked(config);
  const sab::config::LoadResult again = sab::config::load_from_string(shown, no_env);
  check_errors(again, shown);
  // yaml-cpp's emitter writes keys of more than 1024 characters as implicit keys, which YAML (and
  // yaml-cpp's own parser) do not allow: such a rendering is for reading only.
  bool long_line = false;
  for (std::size_t pos = 0, nl = 0; nl != std::string::npos; pos = nl + 1) {
    nl = shown.find('\n', pos);
    if ((nl == std::string::npos ? shown.size() : nl) - pos > 1024) long_line = true;
  }
  if (!again.config && !long_line) {
    std::fprintf(stderr, "the rendered config does not load: %s\n%s", again.errors[0].c_str(),
                 shown.c_str());
    std::abort();
  }

  using namespace std::chrono;
  const sab::aws::TimePeriod period{sys_days{year{2024} / 1 / 1}, sys_days{year{2024} / 1 / 2}};
  try {
    (void)sab::aws::build_request_body(config, period, "token");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "a loaded config gives no request body: %s\n", e.what());
    std::abort();
  }
  return 0;
}
