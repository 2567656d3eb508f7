// The forecast and anomaly events (SPEC §3): type, subject, data in the API's words and camelCase,
// amounts verbatim, and ids that change only with what makes them news.

#include "events/insights.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "events/uuid.hpp"

using namespace sab;
using namespace std::chrono;

namespace {

sys_days d(int y, unsigned m, unsigned dd) {
  return sys_days{year{y} / month{m} / day{dd}};
}

const auto kNow = sys_days{year{2024} / 3 / 5} + hours{2} + minutes{3} + seconds{4};

common::Forecast forecast() {
  common::Forecast f;
  f.start = d(2024, 3, 5);
  f.end = d(2024, 4, 1);
  f.mean = "1234.5678901234567890";
  f.lower = "1000.1";
  f.upper = "1500";
  f.unit = "USD";
  return f;
}

common::Anomaly anomaly() {
  common::Anomaly a;
  a.id = "6c3a6b3e-0000-4000-8000-1234567890ab";
  a.start_date = "2024-03-01";
  a.end_date = "2024-03-03";
  a.dimension_value = "Amazon EC2";
  a.monitor_arn = "arn:aws:ce::123456789012:anomalymonitor/m";
  a.max_score = "0.87";
  a.current_score = "0.5";
  a.max_impact = "40.1";
  a.total_impact = "100.000000000000000001";
  a.total_actual_spend = "150";
  a.total_expected_spend = "50";
  a.total_impact_percentage = "200.0";
  a.root_causes.push_back(
      {"Amazon EC2", "us-east-1", "123456789012", "Payer \"main\"", "BoxUsage:m5.large", "12.25"});
  return a;
}

}  // namespace

TEST_CASE("forecast event: type, subject, data and a deterministic id") {
  const events::ForecastContext context{"UNBLENDED_COST", 80, d(2024, 3, 5)};
  const auto e = events::make_forecast_event(forecast(), context, kNow);
  CHECK(e.type == "aws.billing.forecast.monthly");
  CHECK(e.source == "cloud.aws.billing");
  CHECK(e.subject == "2024-03");
  CHECK(e.time == "2024-03-05T02:03:04Z");
  CHECK_FALSE(e.estimated);
  CHECK(e.datacontenttype == "application/json");
  CHECK(e.data ==
        R"({"month":"2024-03","start":"2024-03-05","end":"2024-04-01","metric":"UNBLENDED_COST",)"
        R"("mean":{"amount":"1234.5678901234567890","unit":"USD"},)"
        R"("lower":{"amount":"1000.1","unit":"USD"},"upper":{"amount":"1500","unit":"USD"},)"
        R"("predictionInterval":80,"madeOn":"2024-03-05"})");
  CHECK(boost::json::parse(e.data).is_object());
  const auto uuid = events::parse_uuid(e.id);
  REQUIRE(uuid);
  CHECK(((*uuid)[6] >> 4) == 5);

  // Same data, same id, whenever it is made; another day, amount, metric or month: another id.
  CHECK(events::make_forecast_event(forecast(), context, kNow + hours{5}).id == e.id);
  auto other_day = context;
  other_day.made_on = d(2024, 3, 6);
  CHECK(events::make_forecast_event(forecast(), other_day, kNow).id != e.id);
  auto other_amount = forecast();
  other_amount.upper = "1500.0";
  CHECK(events::make_forecast_event(other_amount, context, kNow).id != e.id);
  auto other_metric = context;
  other_metric.metric = "AMORTIZED_COST";
  CHECK(events::make_forecast_event(forecast(), other_metric, kNow).id != e.id);
  auto next_month = forecast();
  next_month.start = d(2024, 4, 1);
  next_month.end = d(2024, 5, 1);
  const auto n = events::make_forecast_event(next_month, context, kNow);
  CHECK(n.subject == "2024-04");
  CHECK(n.id != e.id);
}

TEST_CASE("forecast event: bounds AWS did not send are left out") {
  auto f = forecast();
  f.lower.clear();
  f.upper.clear();
  const auto e = events::make_forecast_event(f, {"UNBLENDED_COST", 80, d(2024, 3, 5)}, kNow);
  const auto data = boost::json::parse(e.data).as_object();
  CHECK_FALSE(data.contains("lower"));
  CHECK_FALSE(data.contains("upper"));
  CHECK(data.at("mean").at("amount") == "1234.5678901234567890");
}

TEST_CASE("anomaly event: camelCase of the API's fields, numbers as AWS wrote them") {
  const auto e = events::make_anomaly_event(anomaly(), kNow);
  CHECK(e.type == "aws.billing.anomaly");
  CHECK(e.subject == "6c3a6b3e-0000-4000-8000-1234567890ab");
  CHECK(e.time == "2024-03-05T02:03:04Z");
  CHECK(e.data ==
        R"({"anomalyId":"6c3a6b3e-0000-4000-8000-1234567890ab","anomalyStartDate":"2024-03-01",)"
        R"("anomalyEndDate":"2024-03-03","dimensionValue":"Amazon EC2",)"
        R"("rootCauses":[{"service":"Amazon EC2","region":"us-east-1",)"
        R"("linkedAccount":"123456789012","linkedAccountName":"Payer \"main\"",)"
        R"("usageType":"BoxUsage:m5.large","impact":{"contribution":12.25}}],)"
        R"("anomalyScore":{"maxScore":0.87,"currentScore":0.5},)"
        R"("impact":{"maxImpact":40.1,"totalImpact":100.000000000000000001,)"
        R"("totalActualSpend":150,"totalExpectedSpend":50,"totalImpactPercentage":200.0},)"
        R"("monitorArn":"arn:aws:ce::123456789012:anomalymonitor/m"})");
  CHECK(boost::json::parse(e.data).is_object());
}

TEST_CASE("anomaly event: the id changes with the end date or total impact only") {
  const auto id = events::make_anomaly_event(anomaly(), kNow).id;
  CHECK(events::make_anomaly_event(anomaly(), kNow + hours{30}).id == id);
  auto rescored = anomaly();
  rescored.current_score = "0.9";
  rescored.max_impact = "41";
  rescored.feedback = "YES";
  CHECK(events::make_anomaly_event(rescored, kNow).id == id);
  auto longer = anomaly();
  longer.end_date = "2024-03-04";
  CHECK(events::make_anomaly_event(longer, kNow).id != id);
  auto larger = anomaly();
  larger.total_impact = "120";
  CHECK(events::make_anomaly_event(larger, kNow).id != id);
  auto other = anomaly();
  other.id = "other";
  CHECK(events::make_anomaly_event(other, kNow).id != id);
}

TEST_CASE("anomaly event: a bare anomaly still makes valid JSON") {
  common::Anomaly a;
  a.id = "x";
  const auto e = events::make_anomaly_event(a, kNow);
  CHECK(e.data == R"({"anomalyId":"x","impact":{}})");
}
