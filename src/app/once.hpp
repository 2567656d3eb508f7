#pragma once

// --once: one pull of the selected days, delivered, then exit (0 when every event was
// settled and nothing was dead-lettered).

#include "app/cli.hpp"
#include "config/config.hpp"

namespace sab::app {

// --once: pulls the selected days (default yesterday, UTC), delivers them and returns the exit
// code: 0 when every event was settled and the checkpoint saved, 1 when the pull failed, an event
// was not delivered or the checkpoint could not be saved, 2 for a usage error.
int run_once(const config::Config& config, const Options& options);

}  // namespace sab::app
