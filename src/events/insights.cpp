#include "events/insights.hpp"

#include <charconv>
#include <iterator>

#include "common/json.hpp"
#include "events/mapping.hpp"
#include "events/uuid.hpp"

namespace sab::events {
namespace {

// Writes one JSON object's members; empty values are left out (AWS did not send them).
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void key(std::string_view name) {
    if (!first_) out_.push_back(',');
    first_ = false;
    common::append_json_string(out_, name);
    out_.push_back(':');
  }
  void string(std::string_view name, std::string_view value) {
    if (value.empty()) return;
    key(name);
    common::append_json_string(out_, value);
  }
  // `value` is a JSON number already (checked by the parser), copied as it is.
  void number(std::string_view name, std::string_view value) {
    if (value.empty()) return;
    key(name);
    out_ += value;
  }
  void amount(std::string_view name, std::string_view amount, std::string_view unit) {
    if (amount.empty()) return;
    key(name);
    ObjectWriter inner(out_);
    inner.string("amount", amount);
    inner.string("unit", unit);
    inner.close();
  }
  void close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

std::string id_of(std::initializer_list<std::string_view> fields) {
  std::string name;
  for (auto f : fields)
    append_id_field(name, f);
  return to_string(uuid_v5(kEventNamespace, name));
}

Event base_event(std::string_view type, std::chrono::system_clock::time_point now) {
  Event event;
  event.source.assign(kSource);
  event.type.assign(type);
  event.time = rfc3339(now);
  return event;
}

void write_root_causes(ObjectWriter& data, std::string& out,
                       const std::vector<common::AnomalyRootCause>& causes) {
  if (causes.empty()) return;
  data.key("rootCauses");
  out.push_back('[');
  for (std::size_t i = 0; i < causes.size(); ++i) {
    const auto& c = causes[i];
    if (i != 0) out.push_back(',');
    ObjectWriter cause(out);
    cause.string("service", c.service);
    cause.string("region", c.region);
    cause.string("linkedAccount", c.linked_account);
    cause.string("linkedAccountName", c.linked_account_name);
    cause.string("usageType", c.usage_type);
    if (!c.contribution.empty()) {
      cause.key("impact");
      ObjectWriter impact(out);
      impact.number("contribution", c.contribution);
      impact.close();
    }
    cause.close();
  }
  out.push_back(']');
}

void write_score_and_impact(ObjectWriter& data, std::string& out, const common::Anomaly& a) {
  if (!a.max_score.empty() || !a.current_score.empty()) {
    data.key("anomalyScore");
    ObjectWriter score(out);
    score.number("maxScore", a.max_score);
    score.number("currentScore", a.current_score);
    score.close();
  }
  data.key("impact");
  ObjectWriter impact(out);
  impact.number("maxImpact", a.max_impact);
  impact.number("totalImpact", a.total_impact);
  impact.number("totalActualSpend", a.total_actual_spend);
  impact.number("totalExpectedSpend", a.total_expected_spend);
  impact.number("totalImpactPercentage", a.total_impact_percentage);
  impact.close();
}

}  // namespace

Event make_forecast_event(const common::Forecast& forecast, const ForecastContext& context,
                          std::chrono::system_clock::time_point now) {
  Event event = base_event(kForecastType, now);
  const std::string start = common::format_date(forecast.start);
  const std::string month = start.substr(0, 7);
  const std::string made_on = common::format_date(context.made_on);
  const std::string interval = std::to_string(context.prediction_interval);
  event.subject = month;

  ObjectWriter data(event.data);
  data.string("month", month);
  data.string("start", start);
  data.string("end", common::format_date(forecast.end));
  data.string("metric", context.metric);
  data.amount("mean", forecast.mean, forecast.unit);
  data.amount("lower", forecast.lower, forecast.unit);
  data.amount("upper", forecast.upper, forecast.unit);
  data.number("predictionInterval", interval);
  data.string("madeOn", made_on);
  data.close();

  event.id = id_of({kSource, kForecastType, month, made_on, context.metric, interval, forecast.mean,
                    forecast.lower, forecast.upper, forecast.unit});
  return event;
}

Event make_anomaly_event(const common::Anomaly& a, std::chrono::system_clock::time_point now) {
  Event event = base_event(kAnomalyType, now);
  event.subject = a.id;

  std::string& out = event.data;
  ObjectWriter data(out);
  data.string("anomalyId", a.id);
  data.string("anomalyStartDate", a.start_date);
  data.string("anomalyEndDate", a.end_date);
  data.string("dimensionValue", a.dimension_value);
  write_root_causes(data, out, a.root_causes);
  write_score_and_impact(data, out, a);
  data.string("monitorArn", a.monitor_arn);
  data.string("feedback", a.feedback);
  data.close();

  // What makes an anomaly news: a later end or a larger total. A new score alone is not.
  event.id = id_of({kSource, kAnomalyType, a.id, a.end_date, a.total_impact});
  return event;
}

}  // namespace sab::events
