#include "config/config.hpp"

#include <date/tz.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/http_header.hpp"
#include "config/units.hpp"

namespace sab::config {
namespace {

constexpr std::string_view kMask = "******";

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

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "an undefined value";
  }
}

// Collects every problem with the path of its key, so one run reports them all.
class Reader {
 public:
  std::vector<std::string> errors;

  void error(std::string_view path, std::string_view problem) {
    errors.push_back(std::string(path) + ": " + std::string(problem));
  }

  // Rejects keys of `node` not in `known`.
  void check_keys(const YAML::Node& node, std::string_view prefix,
                  std::initializer_list<std::string_view> known) {
    std::vector<std::string> seen;
    for (const auto& item : node) {
      std::string key = item.first.IsScalar() ? item.first.Scalar() : "?";
      if (key.empty()) key = "\"\"";  // so the error still shows a key
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        error(join(prefix, key), "unknown key");
      } else if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        // YAML forbids it, yet yaml-cpp keeps the first and drops the second without a word.
        error(join(prefix, key), "is given twice");
      } else {
        seen.push_back(key);
      }
    }
  }

  static std::string join(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
  }

  // A scalar string; null or absent leaves `out` as it is.
  bool string(const YAML::Node& node, std::string_view path, std::string& out) {
    if (!node || node.IsNull()) return false;
    if (!node.IsScalar()) {
      error(path, "must be a string, got " + describe(node));
      return false;
    }
    out = node.Scalar();
    return true;
  }

  template <class Int>
  bool integer(const YAML::Node& node, std::string_view path, Int& out, long long min,
               long long max) {
    if (!node || node.IsNull()) return false;
    long long value = 0;
    const std::string text = node.IsScalar() ? node.Scalar() : std::string{};
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!node.IsScalar() || ec != std::errc{} || ptr != text.data() + text.size()) {
      error(path, "must be an integer, got " + describe(node));
      return false;
    }
    if (value < min || value > max) {
      error(path, "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                      std::to_string(value));
      return false;
    }
    out = static_cast<Int>(value);
    return true;
  }

  bool boolean(const YAML::Node& node, std::string_view path, bool& out) {
    if (!node || node.IsNull()) return false;
    if (node.IsScalar()) {
      std::string v = node.Scalar();
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (v == "true" || v == "yes" || v == "on") return out = true, true;
      if (v == "false" || v == "no" || v == "off") return out = false, true;
    }
    error(path, "must be true or false, got " + describe(node));
    return false;
  }

  bool duration(const YAML::Node& node, std::string_view path, std::chrono::milliseconds& out,
                std::chrono::milliseconds min) {
    std::string text;
    if (!string(node, path, text)) return false;
    auto d = parse_duration(text);
    if (!d) {
      error(path, "must be a duration like 500ms, 10s or 2m, got '" + text + "'");
      return false;
    }
    if (*d < min) {
      error(path, "must be at least " + format_duration(min) + ", got '" + text + "'");
      return false;
    }
    out = *d;
    return true;
  }

  // `secret`: the node may hold a secret (secret, delivery.headers); a scalar is not shown.
  bool mapping(const YAML::Node& node, std::string_view path, bool secret = false) {
    if (!node || node.IsNull()) return false;
    if (!node.IsMap()) {
      const std::string got =
          secret && node.IsScalar() ? "a value (not shown: it may be a secret)" : describe(node);
      error(path, "must be a mapping, got " + got);
      return false;
    }
    return true;
  }

  // An http(s) URL with a host.
  void url(std::string_view path, const std::string& text, bool allow_path) {
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) {
      error(path, "must be an http or https URL, got '" + mask_url(text) + "'");
      return;
    }
    const auto& u = *parsed;
    if (u.scheme() != "http" && u.scheme() != "https") {
      error(path, "scheme must be http or https, got '" + std::string(u.scheme()) + "'");
    } else if (u.host().empty()) {
      error(path, "has no host: '" + mask_url(text) + "'");
    } else if (u.has_port() && (u.port_number() == 0)) {
      error(path, "has an invalid port: '" + mask_url(text) + "'");
    } else if (!allow_path && !(u.path().empty() || u.path() == "/")) {
      error(path, "must not have a path: '" + mask_url(text) + "'");
    }
  }

  static std::string mask_url(const std::string& text);
};

std::string Reader::mask_url(const std::string& text) {
  auto parsed = boost::urls::parse_uri_reference(text);
  if (!parsed) return text.find('@') == std::string::npos ? text : std::string(kMask);
  boost::urls::url u = *parsed;
  if (u.has_password()) u.set_password(kMask);
  return std::string(u.buffer());
}

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

// NOLINTNEXTLINE(readability-function-cognitive-complexity): to be split into steps
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
    const YAML::Node item = node[i];
    if (!r.mapping(item, path)) {
      if (!item || item.IsNull()) r.error(path, "must be a mapping {type, key}");
      continue;
    }
    r.check_keys(item, path, {"type", "key"});
    GroupBy g;
    if (!r.string(item["type"], path + ".type", g.type)) {
      r.error(path + ".type", "is required");
      continue;
    }
    if (!r.string(item["key"], path + ".key", g.key) || g.key.empty()) {
      r.error(path + ".key", "is required");
      continue;
    }
    if (g.type != "DIMENSION" && g.type != "TAG" && g.type != "COST_CATEGORY") {
      r.error(path + ".type", "must be DIMENSION, TAG or COST_CATEGORY, got '" + g.type + "'");
      continue;
    }
    if (g.type == "DIMENSION" && !kGroupDimensions.contains(g.key)) {
      r.error(path + ".key", "is not a Cost Explorer dimension: '" + g.key + "'");
      continue;
    }
    if (std::find(result.begin(), result.end(), g) != result.end()) {
      r.error(path, "repeats an earlier group");
      continue;
    }
    result.push_back(std::move(g));
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

// NOLINTNEXTLINE(readability-function-cognitive-complexity): to be split into steps
void read_delivery(Reader& r, const YAML::Node& node, Delivery& out) {
  if (!r.mapping(node, "delivery")) return;
  r.check_keys(node, "delivery",
               {"mode", "batch_size", "concurrency", "timeout", "headers", "ca_file",
                "insecure_skip_verify"});
  std::string mode;
  if (r.string(node["mode"], "delivery.mode", mode)) {
    if (mode == "binary") {
      out.mode = DeliveryMode::binary;
    } else if (mode == "structured") {
      out.mode = DeliveryMode::structured;
    } else if (mode == "batch") {
      out.mode = DeliveryMode::batch;
    } else {
      r.error("delivery.mode", "must be binary, structured or batch, got '" + mode + "'");
    }
  }
  r.integer(node["batch_size"], "delivery.batch_size", out.batch_size, 1, 10'000);
  r.integer(node["concurrency"], "delivery.concurrency", out.concurrency, 1, 256);
  r.duration(node["timeout"], "delivery.timeout", out.timeout, std::chrono::milliseconds{1});
  if (const YAML::Node headers = node["headers"]; r.mapping(headers, "delivery.headers", true)) {
    for (const auto& item : headers) {
      const std::string name = item.first.Scalar();
      const std::string path = "delivery.headers." + name;
      std::string value;
      if (!common::valid_header_name(name)) {
        // Cut at the first invalid character: '{Authorization:Bearer xyz}' is one key in YAML.
        std::size_t valid = 0;
        while (valid < name.size() && common::valid_header_name(name.substr(valid, 1)))
          ++valid;
        r.error("delivery.headers." + name.substr(0, valid) + (valid < name.size() ? "..." : ""),
                "is not a valid HTTP header name (shown up to its first invalid character)");
        continue;
      }
      if (!r.string(item.second, path, value)) {
        if (!item.second || item.second.IsNull()) r.error(path, "must have a value");
        continue;
      }
      // The value is a secret: the message never shows it.
      if (!common::valid_header_value(value)) {
        r.error(path, "value must not contain CR, LF or other control characters");
        continue;
      }
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (lower == "content-type" || lower == "content-length" || lower == "host" ||
          lower == "transfer-encoding" || lower == "connection" || lower.starts_with("ce-")) {
        r.error(path, "is set by the service and cannot be overridden");
        continue;
      }
      // HTTP header names are case-insensitive: two spellings would send the header twice.
      const bool repeated = std::any_of(out.headers.begin(), out.headers.end(), [&](const auto& h) {
        return h.first.size() == name.size() &&
               std::equal(h.first.begin(), h.first.end(), name.begin(), [](char a, char b) {
                 return std::tolower(static_cast<unsigned char>(a)) ==
                        std::tolower(static_cast<unsigned char>(b));
               });
      });
      if (repeated) {
        r.error(path, "is given twice (header names are case-insensitive)");
        continue;
      }
      out.headers.emplace_back(name, value);
    }
  }
  if (r.string(node["ca_file"], "delivery.ca_file", out.ca_file) && !out.ca_file.empty()) {
    std::ifstream probe(out.ca_file);
    if (!probe) r.error("delivery.ca_file", "cannot be read: '" + out.ca_file + "'");
  }
  r.boolean(node["insecure_skip_verify"], "delivery.insecure_skip_verify",
            out.insecure_skip_verify);
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

void validate_zone(Reader& r, const std::string& zone) {
  try {
    (void)date::locate_zone(zone);
  } catch (const std::exception&) {
    r.error("pull_zone", "is not a time zone of the tz database: '" + zone + "'");
  }
}

// NOLINTNEXTLINE(readability-function-cognitive-complexity): to be split into steps
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
                "state_dir",
                "delivery",
                "listen",
                "shutdown_timeout",
                "max_response_bytes",
                "cost_gauge_series",
                "log"});

  r.string(root["target"], "target", c.target);
  if (auto t = env("CONNECTOR_TARGET"); t && !t->empty()) c.target = *t;
  if (c.target.empty()) {
    r.error("target", "is required (or set CONNECTOR_TARGET)");
  } else {
    r.url("target", c.target, true);
  }

  if (r.string(root["endpoint"], "endpoint", c.endpoint)) r.url("endpoint", c.endpoint, false);
  r.integer(root["pull_hour"], "pull_hour", c.pull_hour, 0, 23);
  if (r.string(root["pull_zone"], "pull_zone", c.pull_zone)) validate_zone(r, c.pull_zone);
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
  r.integer(root["send_event_attempts"], "send_event_attempts", c.send_event_attempts, 0,
            1'000'000);

  auto region_name = [](const std::string& region) {
    return !region.empty() && std::all_of(region.begin(), region.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    });
  };
  if (r.string(root["region"], "region", c.region)) {
    c.region_explicit = true;
    const bool ok = region_name(c.region);
    if (!ok) r.error("region", "must be an AWS region name like us-east-1, got '" + c.region + "'");
  }
  if (!c.region_explicit) {
    auto parsed = boost::urls::parse_absolute_uri(c.endpoint);
    std::optional<std::string> from_host;
    if (parsed) from_host = region_from_host(parsed->host());
    c.region = from_host.value_or("us-east-1");
    // The same rule as an explicit region: the signer puts it in every credential scope.
    if (!region_name(c.region)) {
      r.error("endpoint", "the region in its host name, '" + c.region +
                              "', is not an AWS region name like us-east-1 (set region)");
    }
  }

  std::string granularity;
  if (r.string(root["granularity"], "granularity", granularity)) {
    std::string upper = granularity;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    if (upper == "DAILY") {
      c.granularity = Granularity::daily;
    } else if (upper == "MONTHLY") {
      c.granularity = Granularity::monthly;
    } else {
      r.error("granularity", "must be DAILY or MONTHLY, got '" + granularity + "'");
    }
  }
  read_group_by(r, root["group_by"], c.group_by);
  read_metrics(r, root["metrics"], c.metrics);
  if (const YAML::Node filter = root["filter"]; r.mapping(filter, "filter")) {
    c.filter_json = boost::json::serialize(yaml_to_json(filter));
    // The request builder parses it again: what it cannot read is an error now, not at each pull.
    boost::system::error_code ec;
    boost::json::parse(c.filter_json, ec);
    if (ec) {
      r.error("filter", ec == boost::json::error::too_deep
                            ? "nests too deeply (" + ec.message() + ")"
                            : "holds text that is not valid UTF-8");
      c.filter_json.clear();
    }
  }
  r.integer(root["catch_up_days"], "catch_up_days", c.catch_up_days, 0, 366);
  r.integer(root["restate_days"], "restate_days", c.restate_days, 0, 90);
  if (r.string(root["state_dir"], "state_dir", c.state_dir) && c.state_dir.empty()) {
    r.error("state_dir", "must not be empty");
  }
  read_delivery(r, root["delivery"], c.delivery);
  read_listen(r, root["listen"], c.listen);
  r.duration(root["shutdown_timeout"], "shutdown_timeout", c.shutdown_timeout,
             std::chrono::milliseconds{0});

  if (const YAML::Node max = root["max_response_bytes"]; max && !max.IsNull()) {
    std::string text;
    if (r.string(max, "max_response_bytes", text)) {
      auto size = parse_size(text);
      if (!size) {
        r.error("max_response_bytes", "must be a size like 64KiB or 256MiB, got '" + text + "'");
      } else if (*size < 1024) {
        r.error("max_response_bytes", "must be at least 1KiB, got '" + text + "'");
      } else {
        c.max_response_bytes = *size;
      }
    }
  }
  r.integer(root["cost_gauge_series"], "cost_gauge_series", c.cost_gauge_series, 0, 100000);
  read_log(r, root["log"], c);
  return c;
}

std::string format_mark(const YAML::Mark& mark) {
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

}  // namespace

Env process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::optional<std::string> region_from_host(std::string_view host_name) {
  // ce.<region>.amazonaws.com or ce.<region>.amazonaws.com.cn; host names are case-insensitive
  // (and may end with the root's dot), the signing region is lower case.
  std::string lowered(host_name);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowered.ends_with('.')) lowered.pop_back();
  const std::string_view host = lowered;
  constexpr std::string_view prefix = "ce.";
  for (std::string_view suffix : {".amazonaws.com", ".amazonaws.com.cn"}) {
    if (host.starts_with(prefix) && host.ends_with(suffix) &&
        host.size() > prefix.size() + suffix.size()) {
      auto region = host.substr(prefix.size(), host.size() - prefix.size() - suffix.size());
      if (region.find('.') == std::string_view::npos) return std::string(region);
    }
  }
  return std::nullopt;
}

LoadResult load_from_string(std::string_view yaml, const Env& env) {
  LoadResult result;
  Reader r;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    result.errors.push_back("yaml: " + format_mark(e.mark) + ": " + e.msg);
    return result;
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    result.errors.push_back("(top level): must be a mapping of keys, got " + describe(root));
    return result;
  }
  try {
    Config c = read_config(r, root, env);
    result.errors = std::move(r.errors);
    if (result.errors.empty()) result.config = std::move(c);
  } catch (const YAML::Exception& e) {
    result.errors = std::move(r.errors);
    result.errors.push_back("yaml: " + format_mark(e.mark) + ": " + e.msg);
  }
  return result;
}

LoadResult load_file(const std::string& path, const Env& env) {
  std::error_code dir_ec;
  if (std::filesystem::is_directory(path, dir_ec)) {
    LoadResult result;
    result.errors.push_back("config file '" + path + "': cannot be read: is a directory");
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // Say why, and what fixes it: in a container the service runs as a non-root uid that a
    // mounted 0600 file owned by root does not let in.
    const int err = ::access(path.c_str(), R_OK) == 0 ? EIO : errno;
    LoadResult result;
    std::string message = "config file '" + path + "': cannot be read: " + std::strerror(err);
    if (err == EACCES || err == EPERM) {
      const auto uid = std::to_string(::geteuid());
      message += " (this process runs as uid " + uid +
                 ": make the file readable for it, e.g. chmod 0644 '" + path + "' or chown " + uid +
                 " '" + path + "')";
    } else if (err == ENOENT) {
      message += " (mount or write the config there, or name it with --config or CONNECTOR_CONFIG)";
    }
    result.errors.push_back(std::move(message));
    return result;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  LoadResult result = load_from_string(buffer.str(), env);
  if (result.config) {
    result.config->source_path = path;
    struct stat st {};
    const auto& s = result.config->secret;
    const bool holds_secrets = !s.secret_access_key.empty() || !s.session_token.empty() ||
                               !result.config->delivery.headers.empty();
    if (holds_secrets && ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH))) {
      result.warnings.push_back("config file '" + path +
                                "' holds secrets and is readable by group or others; "
                                "chmod 600 it or move the secrets to the environment");
    }
  }
  return result;
}

std::string resolve_path(const std::optional<std::string>& cli_path, const Env& env) {
  if (cli_path && !cli_path->empty()) return *cli_path;
  if (auto p = env("CONNECTOR_CONFIG"); p && !p->empty()) return *p;
  return std::string(kDefaultConfigPath);
}

std::string_view to_string(Granularity g) {
  return g == Granularity::daily ? "DAILY" : "MONTHLY";
}

std::string_view to_string(DeliveryMode m) {
  switch (m) {
    case DeliveryMode::binary:
      return "binary";
    case DeliveryMode::structured:
      return "structured";
    case DeliveryMode::batch:
      return "batch";
  }
  return "binary";
}

std::string_view to_string(LogLevel l) {
  return log::to_string(to_log_level(l));
}

log::Level to_log_level(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return log::Level::debug;
    case LogLevel::info:
      return log::Level::info;
    case LogLevel::warn:
      return log::Level::warn;
    case LogLevel::error:
      return log::Level::error;
  }
  return log::Level::info;
}

log::Format to_log_format(LogFormat f) {
  return f == LogFormat::json ? log::Format::json : log::Format::text;
}

std::string_view to_string(LogFormat f) {
  return f == LogFormat::json ? "json" : "text";
}

namespace {
// Shows that a value is set without showing it; an access key id keeps its first 4 characters,
// which AWS itself shows in its consoles and which tell key kinds apart (AKIA/ASIA).
std::string mask_key_id(const std::string& id) {
  if (id.empty()) return "";
  return id.substr(0, std::min<std::size_t>(4, id.size())) + std::string(kMask);
}
std::string mask_all(const std::string& value) {
  return value.empty() ? "" : std::string(kMask);
}

void emit_json_as_yaml(YAML::Emitter& out, const boost::json::value& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, child] : v.as_object()) {
      out << YAML::Key << std::string(k) << YAML::Value;
      emit_json_as_yaml(out, child);
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& child : v.as_array())
      emit_json_as_yaml(out, child);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    out << YAML::DoubleQuoted << std::string(v.as_string());
  } else {
    out << YAML::Null;
  }
}
}  // namespace

std::string render_masked(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "target" << YAML::Value << Reader::mask_url(c.target);
  out << YAML::Key << "endpoint" << YAML::Value << Reader::mask_url(c.endpoint);
  out << YAML::Key << "pull_hour" << YAML::Value << c.pull_hour;
  out << YAML::Key << "pull_zone" << YAML::Value << c.pull_zone;
  out << YAML::Key << "secret" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "access_key_id" << YAML::Value << mask_key_id(c.secret.access_key_id);
  out << YAML::Key << "secret_access_key" << YAML::Value << mask_all(c.secret.secret_access_key);
  out << YAML::Key << "session_token" << YAML::Value << mask_all(c.secret.session_token);
  out << YAML::EndMap;
  out << YAML::Key << "role_arn" << YAML::Value << c.role_arn;
  out << YAML::Key << "external_id" << YAML::Value << mask_all(c.external_id);
  out << YAML::Key << "send_event_attempts" << YAML::Value << c.send_event_attempts;
  out << YAML::Key << "region" << YAML::Value << c.region;
  out << YAML::Key << "granularity" << YAML::Value << std::string(to_string(c.granularity));
  out << YAML::Key << "group_by" << YAML::Value << YAML::BeginSeq;
  for (const auto& g : c.group_by) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "type" << YAML::Value << g.type << YAML::Key
        << "key" << YAML::Value << g.key << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "metrics" << YAML::Value << YAML::Flow << c.metrics;
  out << YAML::Key << "filter" << YAML::Value;
  if (c.filter_json.empty()) {
    out << YAML::Null;
  } else {
    emit_json_as_yaml(out, boost::json::parse(c.filter_json));
  }
  out << YAML::Key << "catch_up_days" << YAML::Value << c.catch_up_days;
  out << YAML::Key << "restate_days" << YAML::Value << c.restate_days;
  out << YAML::Key << "state_dir" << YAML::Value << c.state_dir;
  out << YAML::Key << "delivery" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << std::string(to_string(c.delivery.mode));
  out << YAML::Key << "batch_size" << YAML::Value << c.delivery.batch_size;
  out << YAML::Key << "concurrency" << YAML::Value << c.delivery.concurrency;
  out << YAML::Key << "timeout" << YAML::Value << format_duration(c.delivery.timeout);
  out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, value] : c.delivery.headers) {
    out << YAML::Key << name << YAML::Value << mask_all(value);
  }
  out << YAML::EndMap;
  out << YAML::Key << "ca_file" << YAML::Value << c.delivery.ca_file;
  out << YAML::Key << "insecure_skip_verify" << YAML::Value << c.delivery.insecure_skip_verify;
  out << YAML::EndMap;
  const bool v6 = c.listen.host.find(':') != std::string::npos;
  out << YAML::Key << "listen" << YAML::Value
      << (v6 ? "[" + c.listen.host + "]" : c.listen.host) + ":" + std::to_string(c.listen.port);
  out << YAML::Key << "shutdown_timeout" << YAML::Value << format_duration(c.shutdown_timeout);
  out << YAML::Key << "max_response_bytes" << YAML::Value << format_size(c.max_response_bytes);
  out << YAML::Key << "cost_gauge_series" << YAML::Value << c.cost_gauge_series;
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << std::string(to_string(c.log_level));
  out << YAML::Key << "format" << YAML::Value << std::string(to_string(c.log_format));
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::vector<std::string> secret_values(const Config& c) {
  std::vector<std::string> out;
  for (const std::string* s :
       {&c.secret.secret_access_key, &c.secret.session_token, &c.external_id}) {
    if (!s->empty()) out.push_back(*s);
  }
  for (const auto& [name, value] : c.delivery.headers) {
    if (!value.empty()) out.push_back(value);
  }
  auto parsed = boost::urls::parse_uri_reference(c.target);
  if (parsed && parsed->has_password() && !parsed->password().empty()) {
    out.push_back(std::string(parsed->password()));
  }
  return out;
}

}  // namespace sab::config
