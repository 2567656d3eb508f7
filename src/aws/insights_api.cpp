#include "aws/insights_api.hpp"

#include <simdjson.h>

#include <boost/json.hpp>
#include <cmath>

#include "aws/json_read.hpp"

namespace sab::aws {

namespace od = simdjson::ondemand;

TimePeriod forecast_period(common::Day today) {
  using namespace std::chrono;
  const year_month_day ymd{today};
  const sys_days next_month{(ymd.year() / ymd.month() / 1) + months{1}};
  // On the last day less than a day is left: a forecast of it would say little, so the next
  // month is the one that matters.
  if (today + days{1} == next_month) {
    return {next_month, sys_days{year_month_day{next_month} + months{1}}};
  }
  return {today, next_month};
}

std::string build_forecast_body(const ForecastQuery& query) {
  boost::json::object body;
  body["TimePeriod"] = {{"Start", common::format_date(query.period.start)},
                        {"End", common::format_date(query.period.end)}};
  body["Metric"] = query.metric;
  body["Granularity"] = "MONTHLY";
  body["PredictionIntervalLevel"] = query.prediction_interval;
  return boost::json::serialize(body);
}

std::string build_anomalies_body(const AnomalyQuery& query) {
  boost::json::object body;
  body["DateInterval"] = {{"StartDate", common::format_date(query.start)}};
  if (!query.monitor_arn.empty()) body["MonitorArn"] = query.monitor_arn;
  if (query.min_impact > 0) {
    boost::json::value start;
    // A whole number stays one ("StartValue":100, not 1E2).
    if (query.min_impact == std::floor(query.min_impact) && query.min_impact < 9e15) {
      start = static_cast<std::int64_t>(query.min_impact);
    } else {
      start = query.min_impact;
    }
    body["TotalImpact"] = {{"NumericOperator", "GREATER_THAN_OR_EQUAL"},
                           {"StartValue", std::move(start)}};
  }
  if (!query.next_page_token.empty()) body["NextPageToken"] = query.next_page_token;
  return boost::json::serialize(body);
}

namespace {

using detail::fail;
using detail::key_of;
using detail::take;

bool is_null(od::value& value) {
  bool null = false;
  return value.is_null().get(null) == simdjson::SUCCESS && null;
}

// A string field; null reads as absent (empty).
std::string text(od::value value, std::string_view what) {
  if (is_null(value)) return {};
  return std::string(take<std::string_view>(value.get_string(), what));
}

// -?digits[.digits][(e|E)[+-]digits], as JSON writes numbers.
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.' && (++i, !digits())) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A number field as the answer wrote it (never through a float); null reads as absent.
common::JsonNumber number(od::value value, std::string_view what) {
  std::string_view raw = value.raw_json_token();
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r'))
    raw.remove_suffix(1);
  if (raw == "null") return {};
  if (!is_json_number(raw)) fail(std::string(what) + " must be a number");
  return common::JsonNumber(raw);
}

od::document iterate(od::parser& parser, std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (auto ec = parser.iterate(body.data(), body.size(), body.capacity()).get(doc)) {
    fail("not JSON", ec);
  }
  return doc;
}

// ForecastResultsByTime: the first entry (MONTHLY over one month gives exactly one).
void parse_forecast_results(od::value value, common::Forecast& out, bool& have_result) {
  od::array results = take<od::array>(value.get_array(), "ForecastResultsByTime must be a list");
  for (auto entry_result : results) {
    od::object entry = take<od::object>(entry_result.get_object(), "ForecastResultsByTime entry");
    if (have_result) continue;
    have_result = true;
    for (auto field_result : entry) {
      od::field field = take<od::field>(std::move(field_result), "forecast field");
      const std::string_view key = key_of(field);
      if (key == "MeanValue") {
        out.mean = text(field.value(), "MeanValue");
      } else if (key == "PredictionIntervalLowerBound") {
        out.lower = text(field.value(), "PredictionIntervalLowerBound");
      } else if (key == "PredictionIntervalUpperBound") {
        out.upper = text(field.value(), "PredictionIntervalUpperBound");
      }
    }
  }
}

void parse_total_unit(od::value value, common::Forecast& out) {
  if (is_null(value)) return;
  od::object total = take<od::object>(value.get_object(), "Total must be an object");
  for (auto field_result : total) {
    od::field field = take<od::field>(std::move(field_result), "Total field");
    if (key_of(field) == "Unit") out.unit = text(field.value(), "Total.Unit");
  }
}

}  // namespace

common::Forecast parse_forecast(std::string& body) {
  od::parser parser;
  od::document doc = iterate(parser, body);
  od::object root = take<od::object>(doc.get_object(), "the top level must be an object");
  common::Forecast out;
  bool have_result = false;
  for (auto field_result : root) {
    od::field field = take<od::field>(std::move(field_result), "top-level field");
    const std::string_view key = key_of(field);
    if (key == "ForecastResultsByTime") {
      parse_forecast_results(field.value(), out, have_result);
    } else if (key == "Total") {
      parse_total_unit(field.value(), out);
    }
  }
  if (!have_result) fail("no ForecastResultsByTime entry");
  if (out.mean.empty()) fail("a forecast without MeanValue");
  if (out.unit.empty()) fail("a forecast without Total.Unit");
  return out;
}

namespace {

// Impact: {"Contribution": n} of a root cause.
common::JsonNumber parse_contribution(od::value value) {
  common::JsonNumber out;
  if (is_null(value)) return out;
  od::object impact = take<od::object>(value.get_object(), "RootCauses Impact");
  for (auto field_result : impact) {
    od::field field = take<od::field>(std::move(field_result), "RootCauses Impact field");
    if (key_of(field) == "Contribution") out = number(field.value(), "Contribution");
  }
  return out;
}

common::AnomalyRootCause parse_root_cause(od::value value) {
  common::AnomalyRootCause out;
  od::object cause = take<od::object>(value.get_object(), "RootCauses entry");
  for (auto field_result : cause) {
    od::field field = take<od::field>(std::move(field_result), "RootCauses field");
    const std::string_view key = key_of(field);
    if (key == "Service") {
      out.service = text(field.value(), "Service");
    } else if (key == "Region") {
      out.region = text(field.value(), "Region");
    } else if (key == "LinkedAccount") {
      out.linked_account = text(field.value(), "LinkedAccount");
    } else if (key == "LinkedAccountName") {
      out.linked_account_name = text(field.value(), "LinkedAccountName");
    } else if (key == "UsageType") {
      out.usage_type = text(field.value(), "UsageType");
    } else if (key == "Impact") {
      out.contribution = parse_contribution(field.value());
    }
  }
  return out;
}

void parse_root_causes(od::value value, std::vector<common::AnomalyRootCause>& out) {
  if (is_null(value)) return;
  od::array causes = take<od::array>(value.get_array(), "RootCauses must be a list");
  for (auto c : causes)
    out.push_back(parse_root_cause(take<od::value>(c, "RootCauses entry")));
}

void parse_score(od::value value, common::Anomaly& out) {
  od::object score = take<od::object>(value.get_object(), "AnomalyScore must be an object");
  for (auto field_result : score) {
    od::field field = take<od::field>(std::move(field_result), "AnomalyScore field");
    const std::string_view key = key_of(field);
    if (key == "MaxScore") {
      out.max_score = number(field.value(), "MaxScore");
    } else if (key == "CurrentScore") {
      out.current_score = number(field.value(), "CurrentScore");
    }
  }
}

void parse_impact(od::value value, common::Anomaly& out) {
  od::object impact = take<od::object>(value.get_object(), "Impact must be an object");
  for (auto field_result : impact) {
    od::field field = take<od::field>(std::move(field_result), "Impact field");
    const std::string_view key = key_of(field);
    if (key == "MaxImpact") {
      out.max_impact = number(field.value(), "MaxImpact");
    } else if (key == "TotalImpact") {
      out.total_impact = number(field.value(), "TotalImpact");
    } else if (key == "TotalActualSpend") {
      out.total_actual_spend = number(field.value(), "TotalActualSpend");
    } else if (key == "TotalExpectedSpend") {
      out.total_expected_spend = number(field.value(), "TotalExpectedSpend");
    } else if (key == "TotalImpactPercentage") {
      out.total_impact_percentage = number(field.value(), "TotalImpactPercentage");
    }
  }
}

// The string fields of an anomaly; false for a key that is none of them.
bool parse_anomaly_text(std::string_view key, od::value value, common::Anomaly& out) {
  std::string* target = key == "AnomalyId"          ? &out.id
                        : key == "AnomalyStartDate" ? &out.start_date
                        : key == "AnomalyEndDate"   ? &out.end_date
                        : key == "DimensionValue"   ? &out.dimension_value
                        : key == "MonitorArn"       ? &out.monitor_arn
                        : key == "Feedback"         ? &out.feedback
                                                    : nullptr;
  if (target == nullptr) return false;
  *target = text(value, key);
  return true;
}

common::Anomaly parse_anomaly(od::value value) {
  common::Anomaly out;
  od::object anomaly = take<od::object>(value.get_object(), "Anomalies entry");
  for (auto field_result : anomaly) {
    od::field field = take<od::field>(std::move(field_result), "anomaly field");
    const std::string_view key = key_of(field);
    if (parse_anomaly_text(key, field.value(), out)) continue;
    if (key == "AnomalyScore") {
      parse_score(field.value(), out);
    } else if (key == "Impact") {
      parse_impact(field.value(), out);
    } else if (key == "RootCauses") {
      parse_root_causes(field.value(), out.root_causes);
    }
  }
  if (out.id.empty()) fail("an anomaly without AnomalyId");
  return out;
}

}  // namespace

AnomalyPage parse_anomalies(std::string& body) {
  od::parser parser;
  od::document doc = iterate(parser, body);
  od::object root = take<od::object>(doc.get_object(), "the top level must be an object");
  AnomalyPage page;
  bool have_list = false;
  for (auto field_result : root) {
    od::field field = take<od::field>(std::move(field_result), "top-level field");
    const std::string_view key = key_of(field);
    if (key == "Anomalies") {
      have_list = true;
      od::array list = take<od::array>(field.value().get_array(), "Anomalies must be a list");
      for (auto a : list)
        page.anomalies.push_back(parse_anomaly(take<od::value>(a, "Anomalies entry")));
    } else if (key == "NextPageToken") {
      page.next_page_token = text(field.value(), "NextPageToken must be a string");
    }
  }
  if (!have_list) fail("no Anomalies");
  return page;
}

}  // namespace sab::aws
