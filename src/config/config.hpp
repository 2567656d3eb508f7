#pragma once

// The service's configuration: the Config it runs with, loaded from a YAML file (or string) with
// CONNECTOR_TARGET applied, every problem reported with its key; the effective config with its
// secrets masked; the names of its enums.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "config/defaults.hpp"

namespace sab::config {

inline constexpr std::string_view kDefaultConfigPath = "/vanus-connect/config/config.yml";

enum class Granularity { daily, monthly };
enum class DeliveryMode { binary, structured, batch };
enum class LogLevel { debug, info, warn, error };
enum class LogFormat { json, text };

struct GroupBy {
  std::string type;  // DIMENSION, TAG or COST_CATEGORY
  std::string key;   // e.g. SERVICE, or the tag / cost category name
  bool operator==(const GroupBy&) const = default;
};

// Static credentials; empty strings mean "not given" (the AWS chain is used then).
struct Secret {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

struct Delivery {
  DeliveryMode mode = DeliveryMode::binary;
  std::size_t batch_size = 100;
  std::size_t concurrency = 4;
  std::chrono::milliseconds timeout{10'000};
  // Extra headers on every request to the target; values are secrets.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;
  bool insecure_skip_verify = false;
};

// An HTTP proxy for every outgoing request but the instance metadata service; empty: the
// environment decides (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, either case).
struct Proxy {
  std::string url;       // http://[user:password@]host:port; the password is a secret
  std::string no_proxy;  // NO_PROXY syntax: hosts, domain suffixes, *, IPs and CIDR blocks
};

// Optional events besides one per group.
struct Events {
  bool summary = false;  // one summary event per period once all its groups are acknowledged
};

// GetCostForecast once a UTC day, one aws.billing.forecast.monthly event (off: each request is
// billed).
struct Forecast {
  bool enabled = false;
  std::string metric = "UNBLENDED_COST";  // a GetCostForecast Metric
  int prediction_interval = 80;           // PredictionIntervalLevel, 51..99
};

// GetAnomalies once a UTC day, one aws.billing.anomaly event per new or grown anomaly.
struct Anomalies {
  bool enabled = false;
  std::string monitor_arn;  // empty: every monitor
  double min_impact = 0;    // only anomalies whose total impact is at least this
};

struct Listen {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
};

struct Config {
  std::string target;
  std::string endpoint = "https://ce.us-east-1.amazonaws.com";
  int pull_hour = 2;
  std::string pull_zone = "UTC";
  Secret secret;
  std::string role_arn;
  std::string external_id;
  unsigned send_event_attempts = 0;  // 0: until delivered or shut down
  std::string region;                // always resolved after loading
  bool region_explicit = false;
  Granularity granularity = Granularity::daily;
  std::vector<GroupBy> group_by{{"DIMENSION", "SERVICE"}};
  std::vector<std::string> metrics{"AmortizedCost", "BlendedCost", "NetAmortizedCost",
                                   "NetUnblendedCost", "UnblendedCost"};
  std::string filter_json;  // Cost Explorer Expression as JSON; empty: no filter
  unsigned catch_up_days = 7;
  unsigned restate_days = 0;
  // Delivered periods AWS still marked Estimated are re-pulled up to this many days back, until
  // they turn final (0: never).
  unsigned follow_estimates_days = 0;
  Events events;
  std::string state_dir = kDefaultStateDir;
  Delivery delivery;
  Forecast forecast;
  Anomalies anomalies;
  Proxy proxy;
  Listen listen;
  std::chrono::milliseconds shutdown_timeout{20'000};
  // Peak RSS is about 16 MiB + 18 x this (measured): the Helm chart's memory limit follows it.
  std::uint64_t max_response_bytes = 16ull * 1024 * 1024;
  // Most series of aws_billing_source_cost (the largest amounts win); 0 turns the gauge off.
  unsigned cost_gauge_series = 500;
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::json;

  // Where the config came from, for messages.
  std::string source_path;
};

// Looks up an environment variable; injectable for tests.
using Env = std::function<std::optional<std::string>(std::string_view)>;
Env process_env();

struct LoadResult {
  std::optional<Config> config;     // set when there are no errors
  std::vector<std::string> errors;  // every problem, each naming its key
  std::vector<std::string> warnings;
};

// Parses and validates a YAML document; applies env overrides (CONNECTOR_TARGET).
LoadResult load_from_string(std::string_view yaml, const Env& env);

// Reads the file, then as load_from_string. Also warns when a file holding secrets is readable by
// group or others.
LoadResult load_file(const std::string& path, const Env& env);

// Resolves the config path: --config, else CONNECTOR_CONFIG, else the default path.
std::string resolve_path(const std::optional<std::string>& cli_path, const Env& env);

// The effective config as YAML, with every secret masked.
std::string render_masked(const Config& config);

// Every secret value in the config (for log redaction).
std::vector<std::string> secret_values(const Config& config);

// The signing region of a Cost Explorer endpoint host: ce.<region>.amazonaws.com[.cn].
std::optional<std::string> region_from_host(std::string_view host);

std::string_view to_string(Granularity);
std::string_view to_string(DeliveryMode);
std::string_view to_string(LogLevel);
std::string_view to_string(LogFormat);
// The config's log settings onto the logger's own (common sits below config).
log::Level to_log_level(LogLevel level);
log::Format to_log_format(LogFormat format);

}  // namespace sab::config
