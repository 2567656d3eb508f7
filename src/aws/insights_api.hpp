#pragma once

// Cost Explorer GetCostForecast and GetAnomalies, the pure half: which month a forecast covers,
// the request bodies, the answers parsed with simdjson. No I/O.
//
// Amounts and numbers stay the exact text of the answer (never through a float).

#include <string>
#include <string_view>
#include <vector>

#include "aws/cost_explorer.hpp"
#include "common/dates.hpp"
#include "common/insights.hpp"

namespace sab::aws {

// Action names (X-Amz-Target is "AWSInsightsIndexService.<name>"), also the `operation` label
// of aws_billing_source_cost_explorer_requests_total.
inline constexpr std::string_view kCeTargetPrefix = "AWSInsightsIndexService.";
inline constexpr std::string_view kGetCostAndUsage = "GetCostAndUsage";
inline constexpr std::string_view kGetCostForecast = "GetCostForecast";
inline constexpr std::string_view kGetAnomalies = "GetAnomalies";

// The period a forecast made on `today` (a UTC day) covers: from today to the first of next
// month; on a month's last day (less than a day left) the whole next month instead.
TimePeriod forecast_period(common::Day today);

struct ForecastQuery {
  TimePeriod period;
  std::string metric;           // a GetCostForecast Metric, e.g. UNBLENDED_COST
  int prediction_interval = 0;  // PredictionIntervalLevel, 51..99
};

// {"TimePeriod":{..},"Metric":..,"Granularity":"MONTHLY","PredictionIntervalLevel":..}.
std::string build_forecast_body(const ForecastQuery& query);

// The one MONTHLY result of a GetCostForecast answer; `body` gets SIMDJSON_PADDING bytes of extra
// capacity. Throws ResponseError when there is no result, no mean or no unit.
common::Forecast parse_forecast(std::string& body);

struct AnomalyQuery {
  common::Day start;        // DateInterval.StartDate: anomalies that end on or after it
  std::string monitor_arn;  // empty: every monitor
  double min_impact = 0;    // > 0: TotalImpact GREATER_THAN_OR_EQUAL this
  std::string next_page_token;
};

std::string build_anomalies_body(const AnomalyQuery& query);

struct AnomalyPage {
  std::vector<common::Anomaly> anomalies;
  std::string next_page_token;  // empty on the last page
};

// One GetAnomalies page; `body` gets SIMDJSON_PADDING bytes of extra capacity. Throws
// ResponseError when it is not such a page (no Anomalies list, an anomaly without AnomalyId, a
// number that is not a JSON number).
AnomalyPage parse_anomalies(std::string& body);

}  // namespace sab::aws
