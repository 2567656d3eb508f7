#include "config/sections.hpp"

#include <date/tz.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <set>

#include "common/http_header.hpp"
#include "config/render.hpp"
#include "config/units.hpp"

namespace sab::config::detail {
namespace {

// Dimensions that GetCostAndUsage accepts in GroupBy.
const std::set<std::string, std::less<>> kGroupDimensions{
    "AZ",
    "INSTANCE_TYPE",
    "LEGAL_ENTITY_NAME",
    "INVOICING_ENTITY",
    "LINKED_ACCOUNT",
    "OPERATION",
    "PLATFORM",
    "PURCHASE_TYPE",
    "SERVICE",
    "TENANCY",
    "RECORD_TYPE",
    "USAGE_TYPE",
    "REGION",
    "DATABASE_ENGINE",
    "DEPLOYMENT_OPTION",
    "INSTANCE_TYPE_FAMILY",
    "BILLING_ENTITY",
    "RESERVATION_ID",
    "SAVINGS_PLAN_ARN",
    "OPERATING_SYSTEM",
    "CACHE_ENGINE",
    "USAGE_TYPE_GROUP",
    "SCOPE",
    "PAYMENT_OPTION",
};

const std::set<std::string, std::less<>> kMetrics{
    "AmortizedCost", "BlendedCost",           "NetAmortizedCost", "NetUnblendedCost",
    "UnblendedCost", "NormalizedUsageAmount", "UsageQuantity",
};

using Headers = decltype(Delivery::headers);

boost::json::value yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      boost::json::object obj;
      for (const auto& item : node)
        obj[item.first.Scalar()] = yaml_to_json(item.second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      boost::json::array arr;
      for (const auto& item : node)
        arr.push_back(yaml_to_json(item));
      return arr;
    }
    case YAML::NodeType::Scalar:
      // Every leaf of an Expression is a string (account ids stay strings, leading zeros kept).
      return boost::json::string(node.Scalar());
    default:
      return nullptr;
  }
}

// target: CONNECTOR_TARGET wins over the file; one of them is required.
void read_target(Reader& r, const YAML::Node& node, const Env& env, std::string& out) {
  r.string(node, "target", out);
  if (auto t = env("CONNECTOR_TARGET"); t && !t->empty()) out = *t;
  if (out.empty()) {
    r.error("target", "is required (or set CONNECTOR_TARGET)");
  } else {
    r.url("target", out, true);
  }
}

void validate_zone(Reader& r, const std::string& zone) {
  try {
    (void)date::locate_zone(zone);
  } catch (const std::exception&) {
    r.error("pull_zone", "is not a time zone of the tz database: '" + zone + "'");
  }
}

// pull_hour and pull_zone: when the daily pull runs.
void read_pull_time(Reader& r, const YAML::Node& root, Config& c) {
  r.integer(root["pull_hour"], "pull_hour", c.pull_hour, 0, 23);
  if (r.string(root["pull_zone"], "pull_zone", c.pull_zone)) validate_zone(r, c.pull_zone);
}

void read_secret(Reader& r, const YAML::Node& node, Secret& out) {
  if (!r.mapping(node, "secret", true)) return;
  r.check_keys(node, "secret", {"access_key_id", "secret_access_key", "session_token"});
  r.string(node["access_key_id"], "secret.access_key_id", out.access_key_id);
  r.string(node["secret_access_key"], "secret.secret_access_key", out.secret_access_key);
  r.string(node["session_token"], "secret.session_token", out.session_token);
  const bool id = !out.access_key_id.empty();
  const bool key = !out.secret_access_key.empty();
  if (id && !key) r.error("secret.secret_access_key", "is required with secret.access_key_id");
  if (key && !id) r.error("secret.access_key_id", "is required with secret.secret_access_key");
  if (!out.session_token.empty() && !(id && key)) {
    r.error("secret.session_token", "needs secret.access_key_id and secret.secret_access_key");
  }
}

// secret, role_arn and external_id: the credentials, and the role to assume with them.
void read_aws_access(Reader& r, const YAML::Node& root, Config& c) {
  read_secret(r, root["secret"], c.secret);
  r.string(root["role_arn"], "role_arn", c.role_arn);
  if (!c.role_arn.empty() &&
      (!c.role_arn.starts_with("arn:aws") || c.role_arn.find(":role/") == std::string::npos)) {
    r.error("role_arn", "must be an IAM role ARN like arn:aws:iam::123456789012:role/name");
  }
  r.string(root["external_id"], "external_id", c.external_id);
  if (!c.external_id.empty() && c.role_arn.empty()) {
    r.error("external_id", "needs role_arn");
  }
}

bool is_region_name(const std::string& region) {
  return !region.empty() && std::all_of(region.begin(), region.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
  });
}

// region: given, else the one in the endpoint's host name, else us-east-1. Reads after endpoint.
void read_region(Reader& r, const YAML::Node& node, Config& c) {
  if (r.string(node, "region", c.region)) {
    c.region_explicit = true;
    if (!is_region_name(c.region)) {
      r.error("region", "must be an AWS region name like us-east-1, got '" + c.region + "'");
    }
    return;
  }
  auto parsed = boost::urls::parse_absolute_uri(c.endpoint);
  std::optional<std::string> from_host;
  if (parsed) from_host = region_from_host(parsed->host());
  c.region = from_host.value_or("us-east-1");
  // The same rule as an explicit region: the signer puts it in every credential scope.
  if (!is_region_name(c.region)) {
    r.error("endpoint", "the region in its host name, '" + c.region +
                            "', is not an AWS region name like us-east-1 (set region)");
  }
}

void read_granularity(Reader& r, const YAML::Node& node, Granularity& out) {
  std::string granularity;
  if (!r.string(node, "granularity", granularity)) return;
  std::string upper = granularity;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  if (upper == "DAILY") {
    out = Granularity::daily;
  } else if (upper == "MONTHLY") {
    out = Granularity::monthly;
  } else {
    r.error("granularity", "must be DAILY or MONTHLY, got '" + granularity + "'");
  }
}

// One entry of group_by; nothing when it has a problem (reported under `path`).
std::optional<GroupBy> read_group(Reader& r, const YAML::Node& item, const std::string& path) {
  if (!r.mapping(item, path)) {
    if (!item || item.IsNull()) r.error(path, "must be a mapping {type, key}");
    return std::nullopt;
  }
  r.check_keys(item, path, {"type", "key"});
  GroupBy g;
  if (!r.string(item["type"], path + ".type", g.type)) {
    r.error(path + ".type", "is required");
    return std::nullopt;
  }
  if (!r.string(item["key"], path + ".key", g.key) || g.key.empty()) {
    r.error(path + ".key", "is required");
    return std::nullopt;
  }
  if (g.type != "DIMENSION" && g.type != "TAG" && g.type != "COST_CATEGORY") {
    r.error(path + ".type", "must be DIMENSION, TAG or COST_CATEGORY, got '" + g.type + "'");
    return std::nullopt;
  }
  if (g.type == "DIMENSION" && !kGroupDimensions.contains(g.key)) {
    r.error(path + ".key", "is not a Cost Explorer dimension: '" + g.key + "'");
    return std::nullopt;
  }
  return g;
}

// group_by replaces the default only when every entry is valid.
void read_group_by(Reader& r, const YAML::Node& node, std::vector<GroupBy>& out) {
  if (!node || node.IsNull()) return;
  if (!node.IsSequence()) {
    r.error("group_by", "must be a list of {type, key}, got " + describe(node));
    return;
  }
  if (node.size() < 1 || node.size() > 2) {
    r.error("group_by", "must have 1 or 2 entries, got " + std::to_string(node.size()));
    return;
  }
  std::vector<GroupBy> result;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "group_by[" + std::to_string(i) + "]";
    std::optional<GroupBy> g = read_group(r, node[i], path);
    if (!g) continue;
    if (std::find(result.begin(), result.end(), *g) != result.end()) {
      r.error(path, "repeats an earlier group");
      continue;
    }
    result.push_back(std::move(*g));
  }
  if (result.size() == node.size()) out = std::move(result);
}

void read_metrics(Reader& r, const YAML::Node& node, std::vector<std::string>& out) {
  if (!node || node.IsNull()) return;
  if (!node.IsSequence() || node.size() == 0) {
    r.error("metrics", "must be a non-empty list of metric names, got " + describe(node));
    return;
  }
  std::vector<std::string> result;
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "metrics[" + std::to_string(i) + "]";
    std::string name;
    if (!r.string(node[i], path, name)) {
      ok = false;
      continue;
    }
    if (!kMetrics.contains(name)) {
      r.error(path, "is not a Cost Explorer metric: '" + name + "'");
      ok = false;
    } else if (std::find(result.begin(), result.end(), name) != result.end()) {
      r.error(path, "repeats '" + name + "'");
      ok = false;
    } else {
      result.push_back(name);
    }
  }
  if (ok) out = std::move(result);
}

// filter: a Cost Explorer Expression, kept as JSON.
void read_filter(Reader& r, const YAML::Node& node, std::string& out) {
  if (!r.mapping(node, "filter")) return;
  out = boost::json::serialize(yaml_to_json(node));
  // The request builder parses it again: what it cannot read is an error now, not at each pull.
  boost::system::error_code ec;
  boost::json::parse(out, ec);
  if (ec) {
    r.error("filter", ec == boost::json::error::too_deep ? "nests too deeply (" + ec.message() + ")"
                                                         : "holds text that is not valid UTF-8");
    out.clear();
  }
}

void read_delivery_mode(Reader& r, const YAML::Node& node, DeliveryMode& out) {
  std::string mode;
  if (!r.string(node, "delivery.mode", mode)) return;
  if (mode == "binary") {
    out = DeliveryMode::binary;
  } else if (mode == "structured") {
    out = DeliveryMode::structured;
  } else if (mode == "batch") {
    out = DeliveryMode::batch;
  } else {
    r.error("delivery.mode", "must be binary, structured or batch, got '" + mode + "'");
  }
}

// Cut at the first invalid character: '{Authorization:Bearer xyz}' is one key in YAML.
void report_header_name(Reader& r, const std::string& name) {
  std::size_t valid = 0;
  while (valid < name.size() && common::valid_header_name(name.substr(valid, 1)))
    ++valid;
  r.error("delivery.headers." + name.substr(0, valid) + (valid < name.size() ? "..." : ""),
          "is not a valid HTTP header name (shown up to its first invalid character)");
}

// Headers the service sets on every request itself.
bool is_service_header(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower == "content-type" || lower == "content-length" || lower == "host" ||
         lower == "transfer-encoding" || lower == "connection" || lower.starts_with("ce-");
}

// HTTP header names are case-insensitive: two spellings would send the header twice.
bool has_header(const Headers& headers, const std::string& name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
    return h.first.size() == name.size() &&
           std::equal(h.first.begin(), h.first.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  });
}

// One entry of delivery.headers, added to `out` when valid. The value is a secret: no message
// shows it.
void read_header(Reader& r, const std::string& name, const YAML::Node& value_node, Headers& out) {
  const std::string path = "delivery.headers." + name;
  std::string value;
  if (!common::valid_header_name(name)) {
    report_header_name(r, name);
    return;
  }
  if (!r.string(value_node, path, value)) {
    if (!value_node || value_node.IsNull()) r.error(path, "must have a value");
    return;
  }
  if (!common::valid_header_value(value)) {
    r.error(path, "value must not contain CR, LF or other control characters");
    return;
  }
  if (is_service_header(name)) {
    r.error(path, "is set by the service and cannot be overridden");
    return;
  }
  if (has_header(out, name)) {
    r.error(path, "is given twice (header names are case-insensitive)");
    return;
  }
  out.emplace_back(name, value);
}

void read_headers(Reader& r, const YAML::Node& node, Headers& out) {
  if (!r.mapping(node, "delivery.headers", true)) return;
  for (const auto& item : node) {
    read_header(r, item.first.Scalar(), item.second, out);
  }
}

void read_delivery(Reader& r, const YAML::Node& node, Delivery& out) {
  if (!r.mapping(node, "delivery")) return;
  r.check_keys(node, "delivery",
               {"mode", "batch_size", "concurrency", "timeout", "headers", "ca_file",
                "insecure_skip_verify"});
  read_delivery_mode(r, node["mode"], out.mode);
  r.integer(node["batch_size"], "delivery.batch_size", out.batch_size, 1, 10'000);
  r.integer(node["concurrency"], "delivery.concurrency", out.concurrency, 1, 256);
  r.duration(node["timeout"], "delivery.timeout", out.timeout, std::chrono::milliseconds{1});
  read_headers(r, node["headers"], out.headers);
  if (r.string(node["ca_file"], "delivery.ca_file", out.ca_file) && !out.ca_file.empty()) {
    std::ifstream probe(out.ca_file);
    if (!probe) r.error("delivery.ca_file", "cannot be read: '" + out.ca_file + "'");
  }
  r.boolean(node["insecure_skip_verify"], "delivery.insecure_skip_verify",
            out.insecure_skip_verify);
}

void read_listen(Reader& r, const YAML::Node& node, Listen& out) {
  std::string text;
  if (!r.string(node, "listen", text)) return;
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    r.error("listen", "must be host:port or :port, got '" + text + "'");
    return;
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value > 65535) {
    r.error("listen", "port must be a number from 0 to 65535, got '" + port + "'");
    return;
  }
  out.host = host.empty() ? "0.0.0.0" : host;
  out.port = static_cast<std::uint16_t>(value);
}

void read_max_response_bytes(Reader& r, const YAML::Node& node, std::uint64_t& out) {
  std::string text;
  if (!r.string(node, "max_response_bytes", text)) return;
  auto size = parse_size(text);
  if (!size) {
    r.error("max_response_bytes", "must be a size like 64KiB or 256MiB, got '" + text + "'");
  } else if (*size < 1024) {
    r.error("max_response_bytes", "must be at least 1KiB, got '" + text + "'");
  } else {
    out = *size;
  }
}

void read_proxy(Reader& r, const YAML::Node& node, Proxy& out) {
  if (!r.mapping(node, "proxy")) return;
  r.check_keys(node, "proxy", {"url", "no_proxy"});
  if (r.string(node["url"], "proxy.url", out.url) && !out.url.empty()) {
    r.url("proxy.url", out.url, false);
    if (!out.url.starts_with("http://")) {
      r.error("proxy.url",
              "must be an http:// URL (https origins are reached through a CONNECT "
              "tunnel), got '" +
                  mask_url(out.url) + "'");
    }
  }
  const YAML::Node list = node["no_proxy"];
  if (!list || !list.IsSequence()) {
    r.string(list, "proxy.no_proxy", out.no_proxy);
    return;
  }
  // A list is the same as NO_PROXY's comma-separated text.
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string entry;
    if (r.string(list[i], "proxy.no_proxy[" + std::to_string(i) + "]", entry)) {
      out.no_proxy += (out.no_proxy.empty() ? "" : ",") + entry;
    }
  }
}

void read_events(Reader& r, const YAML::Node& node, Events& out) {
  if (!r.mapping(node, "events")) return;
  r.check_keys(node, "events", {"summary"});
  r.boolean(node["summary"], "events.summary", out.summary);
}

void read_log(Reader& r, const YAML::Node& node, Config& out) {
  if (!r.mapping(node, "log")) return;
  r.check_keys(node, "log", {"level", "format"});
  std::string level;
  if (r.string(node["level"], "log.level", level)) {
    if (level == "debug") {
      out.log_level = LogLevel::debug;
    } else if (level == "info") {
      out.log_level = LogLevel::info;
    } else if (level == "warn" || level == "warning") {
      out.log_level = LogLevel::warn;
    } else if (level == "error") {
      out.log_level = LogLevel::error;
    } else {
      r.error("log.level", "must be debug, info, warn or error, got '" + level + "'");
    }
  }
  std::string format;
  if (r.string(node["format"], "log.format", format)) {
    if (format == "json") {
      out.log_format = LogFormat::json;
    } else if (format == "text") {
      out.log_format = LogFormat::text;
    } else {
      r.error("log.format", "must be json or text, got '" + format + "'");
    }
  }
}

}  // namespace

// The sections are read in this order, which is the order of their errors.
Config read_config(Reader& r, const YAML::Node& root, const Env& env) {
  Config c;
  r.check_keys(root, "",
               {"target",
                "endpoint",
                "pull_hour",
                "pull_zone",
                "secret",
                "role_arn",
                "external_id",
                "send_event_attempts",
                "region",
                "granularity",
                "group_by",
                "metrics",
                "filter",
                "catch_up_days",
                "restate_days",
                "follow_estimates_days",
                "events",
                "state_dir",
                "delivery",
                "proxy",
                "listen",
                "shutdown_timeout",
                "max_response_bytes",
                "cost_gauge_series",
                "forecast",
                "anomalies",
                "log"});

  read_target(r, root["target"], env, c.target);
  if (r.string(root["endpoint"], "endpoint", c.endpoint)) r.url("endpoint", c.endpoint, false);
  read_pull_time(r, root, c);
  read_aws_access(r, root, c);
  r.integer(root["send_event_attempts"], "send_event_attempts", c.send_event_attempts, 0,
            1'000'000);
  read_region(r, root["region"], c);

  read_granularity(r, root["granularity"], c.granularity);
  read_group_by(r, root["group_by"], c.group_by);
  read_metrics(r, root["metrics"], c.metrics);
  read_filter(r, root["filter"], c.filter_json);
  r.integer(root["catch_up_days"], "catch_up_days", c.catch_up_days, 0, 366);
  r.integer(root["restate_days"], "restate_days", c.restate_days, 0, 90);
  r.integer(root["follow_estimates_days"], "follow_estimates_days", c.follow_estimates_days, 0, 90);
  read_events(r, root["events"], c.events);
  if (r.string(root["state_dir"], "state_dir", c.state_dir) && c.state_dir.empty()) {
    r.error("state_dir", "must not be empty");
  }

  read_delivery(r, root["delivery"], c.delivery);
  read_proxy(r, root["proxy"], c.proxy);
  read_listen(r, root["listen"], c.listen);
  r.duration(root["shutdown_timeout"], "shutdown_timeout", c.shutdown_timeout,
             std::chrono::milliseconds{0});
  read_max_response_bytes(r, root["max_response_bytes"], c.max_response_bytes);
  r.integer(root["cost_gauge_series"], "cost_gauge_series", c.cost_gauge_series, 0, 100000);
  read_forecast(r, root["forecast"], c.forecast);
  read_anomalies(r, root["anomalies"], c.anomalies);
  read_log(r, root["log"], c);
  return c;
}

}  // namespace sab::config::detail
