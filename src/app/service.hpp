#pragma once

// The long-running mode: the daily timer coroutine, the /healthz, /readyz and /metrics
// server, and the graceful-then-forced shutdown on SIGTERM/SIGINT.

#include <memory>

#include "app/cli.hpp"
#include "config/config.hpp"

namespace sab::app {

// Runs the service until SIGTERM/SIGINT; returns the process exit code.
int run_service(const config::Config& config, const Options& options);

}  // namespace sab::app
