// source-aws-billing: AWS Cost Explorer costs as CloudEvents.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "app/cli.hpp"
#include "app/once.hpp"
#include "app/service.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "config/config.hpp"
#include "net/proxy.hpp"

using namespace sab;

int main(int argc, char** argv) {
  // A closed stdout (`--dry-run | head -1`) is an error the dry run reports, not a fatal signal.
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto parsed = app::parse_args(args);
  if (!parsed.error.empty()) {
    std::cerr << "source-aws-billing: " << parsed.error << "\n\n" << app::usage();
    return 2;
  }
  const auto& options = parsed.options;
  if (options.help) {
    std::cout << app::usage();
    return 0;
  }
  if (options.version) {
    std::cout << "source-aws-billing " << common::kVersion << " (" << common::kCommit << ")\n";
    return 0;
  }

  const auto env = config::process_env();
  const std::string path = config::resolve_path(options.config_path, env);
  auto loaded = config::load_file(path, env);
  for (const auto& w : loaded.warnings)
    std::cerr << "config warning: " << w << "\n";
  if (!loaded.config) {
    std::cerr << "config '" << path << "' is invalid (" << loaded.errors.size()
              << (loaded.errors.size() == 1 ? " problem" : " problems") << "):\n";
    for (const auto& e : loaded.errors)
      std::cerr << "  " << e << "\n";
    return 2;
  }
  const config::Config& config = *loaded.config;
  // The proxy comes from the config or the environment: a bad one is a config error too.
  std::optional<net::ProxySettings> proxies;
  try {
    proxies.emplace(config.proxy.url, config.proxy.no_proxy, env);
  } catch (const std::invalid_argument& e) {
    std::cerr << "config '" << path << "' is invalid (1 problem):\n  " << e.what() << "\n";
    return 2;
  }
  if (options.check_config) {
    std::cout << "# " << path << ": valid\n"
              << "# proxy in effect: " << proxies->describe() << "\n"
              << config::render_masked(config);
    return 0;
  }

  log::configure(config::to_log_level(config.log_level), config::to_log_format(config.log_format));
  for (const auto& secret : config::secret_values(config))
    log::add_secret(secret);

  if (options.once) return app::run_once(config, options);
  return app::run_service(config, options);
}
