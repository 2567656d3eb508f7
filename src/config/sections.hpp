#pragma once

// The readers of the config's sections, one function per section (target, schedule, AWS access
// and region, the Cost Explorer query, delivery, listen, log, ...): each checks its keys and
// values and fills its part of Config. read_config runs them all over the top-level mapping.

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace sab::config::detail {

// The config from the document's top-level mapping (with CONNECTOR_TARGET from `env`); every
// problem goes to `r`, whose errors decide whether the result is used.
Config read_config(Reader& r, const YAML::Node& root, const Env& env);

// forecast.* and anomalies.* (config/insights.cpp).
void read_forecast(Reader& r, const YAML::Node& node, Forecast& out);
void read_anomalies(Reader& r, const YAML::Node& node, Anomalies& out);

}  // namespace sab::config::detail
