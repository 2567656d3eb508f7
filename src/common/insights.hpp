#pragma once

// The data that flows from the Cost Explorer parsers of GetCostForecast and GetAnomalies (aws)
// to their events (events): amounts and numbers kept as the exact text AWS sent.

#include <chrono>
#include <string>
#include <vector>

namespace sab::common {

// One GetCostForecast answer (MONTHLY, one month). The bounds are empty when AWS sends none.
struct Forecast {
  std::chrono::sys_days start;  // inclusive
  std::chrono::sys_days end;    // exclusive
  std::string mean;             // MeanValue, verbatim
  std::string lower;            // PredictionIntervalLowerBound, verbatim
  std::string upper;            // PredictionIntervalUpperBound, verbatim
  std::string unit;             // Total.Unit, e.g. "USD"
};

// A number of an anomaly as the JSON text of the answer ("12.5", "1e-3"); empty when absent.
using JsonNumber = std::string;

struct AnomalyRootCause {
  std::string service;
  std::string region;
  std::string linked_account;
  std::string linked_account_name;
  std::string usage_type;
  JsonNumber contribution;  // Impact.Contribution
};

// One entry of GetAnomalies' Anomalies. Strings are empty when AWS leaves a field out.
struct Anomaly {
  std::string id;
  std::string start_date;  // as AWS writes it: "2024-03-01" or "2024-03-01T00:00:00Z"
  std::string end_date;
  std::string dimension_value;
  std::string monitor_arn;
  std::string feedback;
  JsonNumber max_score;
  JsonNumber current_score;
  JsonNumber max_impact;
  JsonNumber total_impact;
  JsonNumber total_actual_spend;
  JsonNumber total_expected_spend;
  JsonNumber total_impact_percentage;
  std::vector<AnomalyRootCause> root_causes;
};

}  // namespace sab::common
