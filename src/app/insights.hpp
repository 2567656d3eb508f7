#pragma once

// The daily forecast and anomaly checks (forecast.*, anomalies.*): GetCostForecast and
// GetAnomalies once per UTC day, after the cost pull, their events delivered through the same
// sink; what went out is remembered in <state_dir>/insights.json so nothing repeats.
//
// Their failures are logged, counted (insight_errors_total) and shown on /readyz as warnings;
// they never fail a pull or readiness.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/pipeline.hpp"
#include "aws/ce_client.hpp"
#include "common/insights.hpp"
#include "config/config.hpp"
#include "delivery/sink.hpp"
#include "metrics/metrics.hpp"
#include "state/insights.hpp"

namespace sab::app {

// One Cost Explorer action (CostExplorerClient::call): false when the listing must restart.
using CallFn = std::function<boost::asio::awaitable<bool>(
    std::string_view operation, const std::string& body,
    const aws::CostExplorerClient::AnswerReader& read, bool restarted)>;

class Insights {
 public:
  Insights(const config::Config& config, CallFn call, delivery::EventSink& sink,
           metrics::Metrics& metrics, WallClock now);

  // Whether either check is configured (neither sends a request otherwise).
  bool enabled() const;

  // The checks still due today (UTC, by their state), each delivered before the next starts.
  // Never throws for AWS, delivery or state failures (they become warnings); a shutdown ends it
  // quietly. `persist`: write insights.json (a dry run keeps its progress in memory only).
  boost::asio::awaitable<void> run(bool persist);

  // "forecast: <why>; anomalies: <why>" for /readyz, empty when the last checks went well.
  std::string warnings() const;

 private:
  boost::asio::awaitable<void> forecast(common::Day today, state::InsightsState& state);
  boost::asio::awaitable<void> anomalies(common::Day today, state::InsightsState& state);
  // Every page of GetAnomalies from `start` (restarted once when the paging token expires).
  boost::asio::awaitable<std::vector<common::Anomaly>> list_anomalies(common::Day start);
  // Delivers the anomalies whose events are news; remembers those acknowledged. True when every
  // one was settled.
  boost::asio::awaitable<bool> deliver_anomalies(const std::vector<common::Anomaly>& anomalies,
                                                 common::Day today, state::InsightsState& state);
  // Logs and counts a failed check and keeps it for /readyz.
  void fail(std::string_view kind, const std::string& why);
  // The state as the last run left it: from insights.json, or the dry run's memory.
  std::optional<state::InsightsState> load();
  void save(const state::InsightsState& state);

  const config::Config& config_;
  CallFn call_;
  delivery::EventSink& sink_;
  metrics::Metrics& metrics_;
  WallClock now_;
  bool persist_ = true;
  bool stopping_ = false;                       // a shutdown cancelled a request: no further step
  std::optional<state::InsightsState> memory_;  // a dry run's progress
  std::string forecast_warning_;
  std::string anomalies_warning_;
};

}  // namespace sab::app
