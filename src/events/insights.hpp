#pragma once

// SPEC §3: a GetCostForecast answer -> one aws.billing.forecast.monthly event, a GetAnomalies
// anomaly -> one aws.billing.anomaly event, with deterministic ids so sinks can drop repeats. Pure.

#include <chrono>
#include <string>
#include <string_view>

#include "common/dates.hpp"
#include "common/insights.hpp"
#include "events/event.hpp"

namespace sab::events {

inline constexpr std::string_view kForecastType = "aws.billing.forecast.monthly";
inline constexpr std::string_view kAnomalyType = "aws.billing.anomaly";

struct ForecastContext {
  std::string metric;           // as requested, e.g. UNBLENDED_COST
  int prediction_interval = 0;  // as requested
  common::Day made_on;          // the UTC day the forecast was asked for
};

// subject "<YYYY-MM>" (the month of forecast.start); data {month, start, end, metric, mean,
// lower, upper ({amount, unit}, the API's strings; a bound AWS did not send is left out),
// predictionInterval, madeOn}; id over month, madeOn, metric, interval and the amounts, so one
// forecast a day is one id; time `now`.
Event make_forecast_event(const common::Forecast& forecast, const ForecastContext& context,
                          std::chrono::system_clock::time_point now);

// subject the anomaly id; data the anomaly's fields in camelCase of the API's names (anomalyId,
// anomalyStartDate, anomalyEndDate, dimensionValue, rootCauses [{service, region, linkedAccount,
// linkedAccountName, usageType, impact: {contribution}}], anomalyScore {maxScore, currentScore},
// impact {maxImpact, totalImpact, totalActualSpend, totalExpectedSpend, totalImpactPercentage},
// monitorArn, feedback), absent fields left out, numbers as the API wrote them; id over anomaly
// id, end date and total impact, so it changes only when the anomaly grew; time `now`.
Event make_anomaly_event(const common::Anomaly& anomaly, std::chrono::system_clock::time_point now);

}  // namespace sab::events
