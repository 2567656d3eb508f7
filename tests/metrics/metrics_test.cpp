#include "metrics/metrics.hpp"

#include <doctest/doctest.h>

using namespace sab::metrics;

TEST_CASE("metrics: label sets exist at zero from the start") {
  Metrics m;
  const std::string text = m.serialize();
  CHECK(text.find("aws_billing_source_build_info{") != std::string::npos);
  CHECK(text.find("aws_billing_source_pulls_total{result=\"failure\"} 0") != std::string::npos);
  CHECK(text.find("aws_billing_source_events_total{result=\"dead_lettered\"} 0") !=
        std::string::npos);
  // Every operation x result, each request billed.
  for (auto op : kCeOperations) {
    for (auto result : kCeResults) {
      const std::string series = "aws_billing_source_cost_explorer_requests_total{operation=\"" +
                                 std::string(op) + "\",result=\"" + std::string(result) + "\"} 0";
      CHECK_MESSAGE(text.find(series) != std::string::npos, series);
    }
  }
  CHECK(text.find("aws_billing_source_insight_errors_total{kind=\"forecast\"} 0") !=
        std::string::npos);
  CHECK(text.find("aws_billing_source_insight_errors_total{kind=\"anomalies\"} 0") !=
        std::string::npos);
  CHECK(text.find("aws_billing_source_delivery_duration_seconds_bucket") != std::string::npos);
  // One prefix for everything.
  std::size_t pos = 0;
  while ((pos = text.find("# TYPE ", pos)) != std::string::npos) {
    pos += 7;
    CHECK(text.compare(pos, 19, "aws_billing_source_") == 0);
  }
}

TEST_CASE("metrics: requests are counted per operation") {
  Metrics m;
  m.ce_requests("GetCostForecast", "client_error").Increment();
  m.ce_requests("GetCostForecast", "client_error").Increment();
  m.ce_requests("GetAnomalies", "success").Increment();
  CHECK(m.ce_requests("GetCostForecast", "client_error").Value() == 2);
  CHECK(m.ce_requests("GetCostAndUsage", "client_error").Value() == 0);
  const auto text = m.serialize();
  CHECK(text.find("aws_billing_source_cost_explorer_requests_total{operation=\"GetAnomalies\","
                  "result=\"success\"} 1") != std::string::npos);
}

TEST_CASE("metrics: the cost gauge is replaced whole") {
  Metrics m;
  m.set_costs({"service"}, {{{"Amazon S3"}, "UnblendedCost", "USD", 1.5}});
  CHECK(m.serialize().find(
            "aws_billing_source_cost{metric=\"UnblendedCost\",service=\"Amazon S3\",unit=\"USD\"} "
            "1.5") != std::string::npos);
  m.set_costs({"service"}, {{{"AWS Lambda"}, "UnblendedCost", "USD", 2}});
  const auto text = m.serialize();
  CHECK(text.find("Amazon S3") == std::string::npos);
  CHECK(text.find("AWS Lambda") != std::string::npos);
}

TEST_CASE("metrics: account names are one info series per account") {
  Metrics m;
  m.set_account_name("111111111111", "Dev");
  m.set_account_name("111111111111", "Dev");
  m.set_account_name("222222222222", "Payer");
  auto text = m.serialize();
  CHECK(text.find(
            "aws_billing_source_account_info{linked_account=\"111111111111\",name=\"Dev\"} 1") !=
        std::string::npos);
  CHECK(text.find("name=\"Payer\"} 1") != std::string::npos);
  // Renamed: the old series goes.
  m.set_account_name("111111111111", "Development");
  text = m.serialize();
  CHECK(text.find("name=\"Dev\"") == std::string::npos);
  CHECK(text.find("name=\"Development\"} 1") != std::string::npos);
}

TEST_CASE("metrics: label names") {
  CHECK(label_name("DIMENSION", "SERVICE") == "service");
  CHECK(label_name("DIMENSION", "LINKED_ACCOUNT") == "linked_account");
  CHECK(label_name("TAG", "team-name") == "tag_team_name");
  CHECK(label_name("COST_CATEGORY", "Env") == "cost_category_env");
}

TEST_CASE("metrics: the cost gauge keeps the largest amounts, in their order") {
  using Sample = Metrics::CostSample;
  std::vector<Sample> samples{{{"a"}, "UnblendedCost", "USD", 1},
                              {{"b"}, "UnblendedCost", "USD", 5},
                              {{"c"}, "UnblendedCost", "USD", 3},
                              {{"d"}, "UnblendedCost", "USD", 5},
                              {{"e"}, "UnblendedCost", "USD", 0.5}};
  CHECK(keep_largest_costs(samples, 10) == 0);
  CHECK(samples.size() == 5);
  CHECK(keep_largest_costs(samples, 3) == 2);
  REQUIRE(samples.size() == 3);
  CHECK(samples[0].group_values[0] == "b");
  CHECK(samples[1].group_values[0] == "c");
  CHECK(samples[2].group_values[0] == "d");
  CHECK(keep_largest_costs(samples, 0) == 3);
  CHECK(samples.empty());
}
