#include "config/render.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <iterator>

#include "config/config.hpp"
#include "config/units.hpp"

namespace sab::config::detail {

std::string mask_url(const std::string& text) {
  auto parsed = boost::urls::parse_uri_reference(text);
  if (!parsed) return text.find('@') == std::string::npos ? text : std::string(kMask);
  boost::urls::url u = *parsed;
  if (u.has_password()) u.set_password(kMask);
  return std::string(u.buffer());
}

}  // namespace sab::config::detail

namespace sab::config {

namespace {
// Shows that a value is set without showing it; an access key id keeps its first 4 characters,
// which AWS itself shows in its consoles and which tell key kinds apart (AKIA/ASIA).
std::string mask_key_id(const std::string& id) {
  if (id.empty()) return "";
  return id.substr(0, std::min<std::size_t>(4, id.size())) + std::string(detail::kMask);
}
std::string mask_all(const std::string& value) {
  return value.empty() ? "" : std::string(detail::kMask);
}

// The shortest text that reads back as the same double ("0.1", not 0.10000000000000001).
std::string shortest(double value) {
  char buf[32];
  const auto r = std::to_chars(std::begin(buf), std::end(buf), value);
  return std::string(buf, r.ptr);
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
  out << YAML::Key << "target" << YAML::Value << detail::mask_url(c.target);
  out << YAML::Key << "endpoint" << YAML::Value << detail::mask_url(c.endpoint);
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
  out << YAML::Key << "follow_estimates_days" << YAML::Value << c.follow_estimates_days;
  out << YAML::Key << "events" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "summary" << YAML::Value << c.events.summary;
  out << YAML::EndMap;
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
  out << YAML::Key << "proxy" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << detail::mask_url(c.proxy.url);
  out << YAML::Key << "no_proxy" << YAML::Value << c.proxy.no_proxy;
  out << YAML::EndMap;
  const bool v6 = c.listen.host.find(':') != std::string::npos;
  out << YAML::Key << "listen" << YAML::Value
      << (v6 ? "[" + c.listen.host + "]" : c.listen.host) + ":" + std::to_string(c.listen.port);
  out << YAML::Key << "shutdown_timeout" << YAML::Value << format_duration(c.shutdown_timeout);
  out << YAML::Key << "max_response_bytes" << YAML::Value << format_size(c.max_response_bytes);
  out << YAML::Key << "cost_gauge_series" << YAML::Value << c.cost_gauge_series;
  out << YAML::Key << "forecast" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << c.forecast.enabled;
  out << YAML::Key << "metric" << YAML::Value << c.forecast.metric;
  out << YAML::Key << "prediction_interval" << YAML::Value << c.forecast.prediction_interval;
  out << YAML::EndMap;
  out << YAML::Key << "anomalies" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << c.anomalies.enabled;
  out << YAML::Key << "monitor_arn" << YAML::Value << c.anomalies.monitor_arn;
  out << YAML::Key << "min_impact" << YAML::Value << shortest(c.anomalies.min_impact);
  out << YAML::EndMap;
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
  for (const std::string* url : {&c.target, &c.proxy.url}) {
    auto parsed = boost::urls::parse_uri_reference(*url);
    if (parsed && parsed->has_password() && !parsed->password().empty()) {
      out.push_back(std::string(parsed->password()));
    }
  }
  return out;
}

}  // namespace sab::config
