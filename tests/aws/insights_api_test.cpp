// GetCostForecast and GetAnomalies, the pure parts: the month a forecast covers (a month's last
// day forecasts the next), the request bodies, and the answers with their numbers verbatim.

#include "aws/insights_api.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "metrics/metrics.hpp"

using namespace sab;
using namespace std::chrono;

namespace {

sys_days d(int y, unsigned m, unsigned dd) {
  return sys_days{year{y} / month{m} / day{dd}};
}

bool throws_response_error(std::string body, std::string_view words) {
  try {
    (void)aws::parse_anomalies(body);
  } catch (const aws::ResponseError& e) {
    return std::string_view(e.what()).find(words) != std::string_view::npos;
  }
  return false;
}

}  // namespace

TEST_CASE("forecast period: today to the first of next month; the last day forecasts the next") {
  CHECK(aws::forecast_period(d(2024, 3, 5)) == aws::TimePeriod{d(2024, 3, 5), d(2024, 4, 1)});
  CHECK(aws::forecast_period(d(2024, 3, 1)) == aws::TimePeriod{d(2024, 3, 1), d(2024, 4, 1)});
  CHECK(aws::forecast_period(d(2024, 3, 30)) == aws::TimePeriod{d(2024, 3, 30), d(2024, 4, 1)});
  // Last days: less than a day is left, so the whole next month.
  CHECK(aws::forecast_period(d(2024, 3, 31)) == aws::TimePeriod{d(2024, 4, 1), d(2024, 5, 1)});
  CHECK(aws::forecast_period(d(2024, 2, 29)) == aws::TimePeriod{d(2024, 3, 1), d(2024, 4, 1)});
  CHECK(aws::forecast_period(d(2023, 2, 28)) == aws::TimePeriod{d(2023, 3, 1), d(2023, 4, 1)});
  CHECK(aws::forecast_period(d(2024, 12, 31)) == aws::TimePeriod{d(2025, 1, 1), d(2025, 2, 1)});
  CHECK(aws::forecast_period(d(2024, 11, 30)) == aws::TimePeriod{d(2024, 12, 1), d(2025, 1, 1)});
}

TEST_CASE("forecast request body") {
  const auto body = aws::build_forecast_body(
      {aws::TimePeriod{d(2024, 3, 5), d(2024, 4, 1)}, "NET_AMORTIZED_COST", 95});
  CHECK(boost::json::parse(body) ==
        boost::json::parse(R"({"TimePeriod":{"Start":"2024-03-05","End":"2024-04-01"},
          "Metric":"NET_AMORTIZED_COST","Granularity":"MONTHLY","PredictionIntervalLevel":95})"));
}

TEST_CASE("forecast answer: the strings verbatim, the unit from Total") {
  std::string body = R"({"Total":{"Amount":"1234.5678901234","Unit":"USD"},
    "ForecastResultsByTime":[{"TimePeriod":{"Start":"2024-03-05","End":"2024-04-01"},
      "MeanValue":"1234.5678901234","PredictionIntervalLowerBound":"1000.00000000001",
      "PredictionIntervalUpperBound":"1.5E3"}]})";
  const auto f = aws::parse_forecast(body);
  CHECK(f.mean == "1234.5678901234");
  CHECK(f.lower == "1000.00000000001");
  CHECK(f.upper == "1.5E3");
  CHECK(f.unit == "USD");

  std::string no_bounds = R"({"ForecastResultsByTime":[{"MeanValue":"7"}],"Total":{"Unit":"EUR"}})";
  const auto g = aws::parse_forecast(no_bounds);
  CHECK(g.mean == "7");
  CHECK(g.lower.empty());
  CHECK(g.unit == "EUR");
}

TEST_CASE("forecast answer: what cannot be used is a ResponseError") {
  for (std::string body : {std::string(""), std::string("{"), std::string("[]"),
                           std::string(R"({"Total":{"Amount":"1","Unit":"USD"}})"),
                           std::string(R"({"ForecastResultsByTime":[],"Total":{"Unit":"USD"}})"),
                           std::string(R"({"ForecastResultsByTime":[{"MeanValue":"1"}]})"),
                           std::string(R"({"ForecastResultsByTime":[{}],"Total":{"Unit":"USD"}})"),
                           std::string(R"({"ForecastResultsByTime":[{"MeanValue":1}],
                                           "Total":{"Unit":"USD"}})"),
                           std::string(R"({"ForecastResultsByTime":[{"MeanValue":"1"}],
                                           "Total":{"Unit":"USD"})")}) {
    CAPTURE(body);
    CHECK_THROWS_AS(aws::parse_forecast(body), aws::ResponseError);
  }
}

TEST_CASE("anomalies request body: the monitor and the impact filter only when set") {
  CHECK(boost::json::parse(aws::build_anomalies_body({d(2024, 3, 1), "", 0, ""})) ==
        boost::json::parse(R"({"DateInterval":{"StartDate":"2024-03-01"}})"));
  const std::string arn = "arn:aws:ce::123456789012:anomalymonitor/abc";
  CHECK(boost::json::parse(aws::build_anomalies_body({d(2024, 3, 1), arn, 100, "tok"})) ==
        boost::json::parse(R"({"DateInterval":{"StartDate":"2024-03-01"},
          "MonitorArn":"arn:aws:ce::123456789012:anomalymonitor/abc",
          "TotalImpact":{"NumericOperator":"GREATER_THAN_OR_EQUAL","StartValue":100},
          "NextPageToken":"tok"})"));
  const auto half = boost::json::parse(aws::build_anomalies_body({d(2024, 3, 1), "", 12.5, ""}));
  CHECK(half.at("TotalImpact").at("StartValue").as_double() == 12.5);
  CHECK(aws::build_anomalies_body({d(2024, 3, 1), "", 100, ""}).find("\"StartValue\":100}") !=
        std::string::npos);
}

TEST_CASE("anomalies answer: every field, numbers as written, pages") {
  std::string body = R"({"Anomalies":[
    {"AnomalyId":"a-1","AnomalyStartDate":"2024-03-01","AnomalyEndDate":"2024-03-03",
     "DimensionValue":"Amazon EC2",
     "RootCauses":[{"Service":"Amazon EC2","Region":"us-east-1","LinkedAccount":"123456789012",
                    "LinkedAccountName":"Payer","UsageType":"BoxUsage:m5.large",
                    "Impact":{"Contribution":12.25}}, {"Service":"AWS Lambda"}],
     "AnomalyScore":{"MaxScore":0.87,"CurrentScore":0.5},
     "Impact":{"MaxImpact":40.1,"TotalImpact":100.000000000000000001,"TotalActualSpend":150,
               "TotalExpectedSpend":50,"TotalImpactPercentage":200.0},
     "MonitorArn":"arn:aws:ce::123456789012:anomalymonitor/m","Feedback":"NO"},
    {"AnomalyId":"a-2","AnomalyScore":{"MaxScore":1e-2,"CurrentScore":0},
     "Impact":{"MaxImpact":-1.5E+2,"TotalImpactPercentage":null},"MonitorArn":"m",
     "Feedback":null}],
   "NextPageToken":"next=="})";
  const auto page = aws::parse_anomalies(body);
  CHECK(page.next_page_token == "next==");
  REQUIRE(page.anomalies.size() == 2);
  const auto& a = page.anomalies[0];
  CHECK(a.id == "a-1");
  CHECK(a.start_date == "2024-03-01");
  CHECK(a.end_date == "2024-03-03");
  CHECK(a.dimension_value == "Amazon EC2");
  REQUIRE(a.root_causes.size() == 2);
  CHECK(a.root_causes[0].service == "Amazon EC2");
  CHECK(a.root_causes[0].region == "us-east-1");
  CHECK(a.root_causes[0].linked_account == "123456789012");
  CHECK(a.root_causes[0].linked_account_name == "Payer");
  CHECK(a.root_causes[0].usage_type == "BoxUsage:m5.large");
  CHECK(a.root_causes[0].contribution == "12.25");
  CHECK(a.root_causes[1].service == "AWS Lambda");
  CHECK(a.root_causes[1].contribution.empty());
  CHECK(a.max_score == "0.87");
  CHECK(a.current_score == "0.5");
  CHECK(a.max_impact == "40.1");
  CHECK(a.total_impact == "100.000000000000000001");  // never through a float
  CHECK(a.total_actual_spend == "150");
  CHECK(a.total_expected_spend == "50");
  CHECK(a.total_impact_percentage == "200.0");
  CHECK(a.monitor_arn == "arn:aws:ce::123456789012:anomalymonitor/m");
  CHECK(a.feedback == "NO");
  const auto& b = page.anomalies[1];
  CHECK(b.max_score == "1e-2");
  CHECK(b.max_impact == "-1.5E+2");
  CHECK(b.total_impact.empty());
  CHECK(b.total_impact_percentage.empty());
  CHECK(b.feedback.empty());
  CHECK(b.root_causes.empty());

  std::string last = R"({"Anomalies":[]})";
  const auto empty = aws::parse_anomalies(last);
  CHECK(empty.anomalies.empty());
  CHECK(empty.next_page_token.empty());
  std::string null_token = R"({"Anomalies":[],"NextPageToken":null})";
  CHECK(aws::parse_anomalies(null_token).next_page_token.empty());
}

TEST_CASE("anomalies answer: what cannot be used is a ResponseError") {
  CHECK(throws_response_error("", "not JSON"));
  CHECK(throws_response_error("{}", "no Anomalies"));
  CHECK(throws_response_error(R"({"Anomalies":{}})", "Anomalies must be a list"));
  CHECK(throws_response_error(R"({"Anomalies":[{"Impact":{}}]})", "without AnomalyId"));
  CHECK(throws_response_error(R"({"Anomalies":[{"AnomalyId":"a","Impact":{"TotalImpact":"1"}}]})",
                              "TotalImpact must be a number"));
  CHECK(throws_response_error(R"({"Anomalies":[{"AnomalyId":"a","Impact":{"TotalImpact":tru}}]})",
                              "TotalImpact"));
  CHECK(throws_response_error(R"({"Anomalies":[{"AnomalyId":7}]})", "AnomalyId"));
  CHECK(throws_response_error(R"({"Anomalies":[{"AnomalyId":"a","RootCauses":{}}]})",
                              "RootCauses must be a list"));
  CHECK(throws_response_error(R"({"Anomalies":[{"AnomalyId":"a"})", ""));
}

TEST_CASE("the operation names are the metric's operation label values") {
  CHECK(metrics::kCeOperations[0] == aws::kGetCostAndUsage);
  CHECK(metrics::kCeOperations[1] == aws::kGetCostForecast);
  CHECK(metrics::kCeOperations[2] == aws::kGetAnomalies);
}
