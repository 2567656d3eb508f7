// The readers of the forecast and anomalies sections (declared in sections.hpp): both off by
// default, since each request they make is billed.
#include <charconv>
#include <cmath>
#include <set>

#include "config/sections.hpp"

namespace sab::config::detail {
namespace {

// The Metric values GetCostForecast accepts: botocore's Metric enum less the two usage metrics,
// which only GetUsageForecast takes.
const std::set<std::string, std::less<>> kForecastMetrics{
    "AMORTIZED_COST", "BLENDED_COST", "NET_AMORTIZED_COST", "NET_UNBLENDED_COST", "UNBLENDED_COST",
};

void read_forecast_metric(Reader& r, const YAML::Node& node, std::string& out) {
  std::string metric;
  if (!r.string(node, "forecast.metric", metric)) return;
  if (kForecastMetrics.contains(metric)) {
    out = metric;
  } else if (metric == "USAGE_QUANTITY" || metric == "NORMALIZED_USAGE_AMOUNT") {
    r.error("forecast.metric", "'" + metric + "' is a usage metric, which GetCostForecast does " +
                                   "not forecast; use one of AMORTIZED_COST, BLENDED_COST, " +
                                   "NET_AMORTIZED_COST, NET_UNBLENDED_COST, UNBLENDED_COST");
  } else {
    r.error("forecast.metric",
            "must be AMORTIZED_COST, BLENDED_COST, NET_AMORTIZED_COST, NET_UNBLENDED_COST or "
            "UNBLENDED_COST, got '" +
                metric + "'");
  }
}

void read_monitor_arn(Reader& r, const YAML::Node& node, std::string& out) {
  std::string arn;
  if (!r.string(node, "anomalies.monitor_arn", arn) || arn.empty()) return;
  if (!arn.starts_with("arn:aws") || arn.find(":anomalymonitor/") == std::string::npos ||
      arn.size() > 1024) {
    r.error("anomalies.monitor_arn",
            "must be a cost anomaly monitor ARN like "
            "arn:aws:ce::123456789012:anomalymonitor/<id>, got '" +
                arn + "'");
    return;
  }
  out = arn;
}

void read_min_impact(Reader& r, const YAML::Node& node, double& out) {
  if (!node || node.IsNull()) return;
  const std::string text = node.IsScalar() ? node.Scalar() : std::string{};
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!node.IsScalar() || text.empty() || ec != std::errc{} || ptr != text.data() + text.size() ||
      !std::isfinite(value) || value < 0) {
    r.error("anomalies.min_impact",
            "must be a number of at least 0 (the anomaly's total impact, in the bill's currency), "
            "got " +
                describe(node));
    return;
  }
  out = value;
}

}  // namespace

void read_forecast(Reader& r, const YAML::Node& node, Forecast& out) {
  if (!r.mapping(node, "forecast")) return;
  r.check_keys(node, "forecast", {"enabled", "metric", "prediction_interval"});
  r.boolean(node["enabled"], "forecast.enabled", out.enabled);
  read_forecast_metric(r, node["metric"], out.metric);
  r.integer(node["prediction_interval"], "forecast.prediction_interval", out.prediction_interval,
            51, 99);
}

void read_anomalies(Reader& r, const YAML::Node& node, Anomalies& out) {
  if (!r.mapping(node, "anomalies")) return;
  r.check_keys(node, "anomalies", {"enabled", "monitor_arn", "min_impact"});
  r.boolean(node["enabled"], "anomalies.enabled", out.enabled);
  read_monitor_arn(r, node["monitor_arn"], out.monitor_arn);
  read_min_impact(r, node["min_impact"], out.min_impact);
}

}  // namespace sab::config::detail
