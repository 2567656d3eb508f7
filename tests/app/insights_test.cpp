// The daily forecast and anomaly checks with in-process fakes of Cost Explorer and the sink: once
// a day, their events only when news, nothing remembered that was not acknowledged, failures
// kept as warnings. The binary against a botocore-checked fake: tests/integration/test_insights.py.
#include "app/insights.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>

#include "app/cli.hpp"
#include "support/run_coroutine.hpp"
#include "support/temp_dir.hpp"

using namespace sab;
using app::Day;
namespace asio = boost::asio;

namespace {

Day ymd(const char* s) {
  return *app::parse_date(s);
}

struct Sink : delivery::EventSink {
  std::vector<events::Event> received;
  std::set<std::string> refuse;  // subjects that fail
  asio::awaitable<delivery::DeliveryResult> deliver(std::vector<events::Event> batch) override {
    delivery::DeliveryResult r;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (refuse.contains(batch[i].subject)) {
        ++r.failed;
        r.failed_at.push_back(i);
      } else {
        ++r.delivered;
        received.push_back(std::move(batch[i]));
      }
    }
    co_return r;
  }
};

std::string anomaly(const char* id, const char* end, const char* total) {
  return std::string(R"({"AnomalyId":")") + id + R"(","AnomalyStartDate":"2024-03-01",)" +
         R"("AnomalyEndDate":")" + end + R"(","AnomalyScore":{"MaxScore":1,"CurrentScore":1},)" +
         R"("Impact":{"MaxImpact":1,"TotalImpact":)" + total + R"(},"MonitorArn":"m"})";
}

struct Harness {
  test::TempDir dir{"insights-app"};
  config::Config config;
  metrics::Metrics metrics;
  Sink sink;
  std::chrono::system_clock::time_point now = std::chrono::sys_days{ymd("2024-03-05")};
  // Answers by operation, in order; an answer starting with '!' is thrown as a client error.
  std::map<std::string, std::deque<std::string>, std::less<>> answers;
  std::vector<std::pair<std::string, std::string>> requests;  // operation, body
  std::unique_ptr<app::Insights> insights;

  Harness() {
    config.state_dir = dir.path().string();
    insights = std::make_unique<app::Insights>(
        config,
        [this](std::string_view op, const std::string& body,
               const aws::CostExplorerClient::AnswerReader& read, bool) -> asio::awaitable<bool> {
          requests.emplace_back(op, body);
          auto& queue = answers[std::string(op)];
          REQUIRE_MESSAGE(!queue.empty(), "no answer queued for ", std::string(op));
          std::string answer = queue.front();
          queue.pop_front();
          if (answer.starts_with("!")) {
            throw aws::CostExplorerError(aws::CeErrorKind::client, answer.substr(1));
          }
          read(answer);
          co_return true;
        },
        sink, metrics, [this] { return now; });
  }

  void run(bool persist = true) {
    asio::io_context io;
    test::run_coroutine(io, insights->run(persist));
  }

  void next_day() { now += std::chrono::days{1}; }

  std::size_t count(std::string_view op) const {
    return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(),
                                                  [&](const auto& r) { return r.first == op; }));
  }

  double errors(std::string_view kind) { return metrics.insight_errors(kind).Value(); }
};

const char* kForecast =
    R"({"Total":{"Amount":"10","Unit":"USD"},"ForecastResultsByTime":[{"MeanValue":"10",)"
    R"("PredictionIntervalLowerBound":"8","PredictionIntervalUpperBound":"12"}]})";

}  // namespace

TEST_CASE("insights: nothing is asked for with the default config") {
  Harness h;
  CHECK_FALSE(h.insights->enabled());
  h.run();
  CHECK(h.requests.empty());
  CHECK(h.sink.received.empty());
  CHECK_FALSE(std::filesystem::exists(h.dir / "insights.json"));
}

TEST_CASE("insights: one forecast a day, the next month's on a month's last day") {
  Harness h;
  h.config.forecast.enabled = true;
  h.answers["GetCostForecast"] = {kForecast, kForecast};
  h.run();
  h.run();  // a retry firing the same day: no second request
  REQUIRE(h.count("GetCostForecast") == 1);
  const auto body = boost::json::parse(h.requests[0].second);
  CHECK(body.at("TimePeriod").at("Start") == "2024-03-05");
  CHECK(body.at("TimePeriod").at("End") == "2024-04-01");
  CHECK(body.at("Metric") == "UNBLENDED_COST");
  CHECK(body.at("PredictionIntervalLevel") == 80);
  REQUIRE(h.sink.received.size() == 1);
  CHECK(h.sink.received[0].subject == "2024-03");
  CHECK(h.insights->warnings().empty());

  h.now = std::chrono::sys_days{ymd("2024-03-31")} + std::chrono::hours{23};
  h.run();
  REQUIRE(h.count("GetCostForecast") == 2);
  const auto last = boost::json::parse(h.requests[1].second);
  CHECK(last.at("TimePeriod").at("Start") == "2024-04-01");
  CHECK(last.at("TimePeriod").at("End") == "2024-05-01");
  REQUIRE(h.sink.received.size() == 2);
  CHECK(h.sink.received[1].subject == "2024-04");
  CHECK(h.sink.received[1].id != h.sink.received[0].id);
}

TEST_CASE("insights: a failed forecast is a warning, counted, and tried again next run") {
  Harness h;
  h.config.forecast.enabled = true;
  h.answers["GetCostForecast"] = {"!HTTP 400 DataUnavailableException: no data", kForecast};
  h.run();
  CHECK(h.sink.received.empty());
  CHECK(h.errors("forecast") == 1);
  CHECK(h.errors("anomalies") == 0);
  CHECK(h.insights->warnings() == "forecast: HTTP 400 DataUnavailableException: no data");
  h.run();
  CHECK(h.sink.received.size() == 1);
  CHECK(h.insights->warnings().empty());
}

TEST_CASE("insights: an undelivered forecast is sent again at the next run") {
  Harness h;
  h.config.forecast.enabled = true;
  h.answers["GetCostForecast"] = {kForecast, kForecast};
  h.sink.refuse = {"2024-03"};
  h.run();
  CHECK(h.sink.received.empty());
  CHECK(h.errors("forecast") == 1);
  CHECK(h.insights->warnings().find("1 forecast event not delivered") != std::string::npos);
  h.sink.refuse.clear();
  h.run();
  CHECK(h.sink.received.size() == 1);
  CHECK(h.count("GetCostForecast") == 2);
}

TEST_CASE("insights: anomalies over pages; a grown one again, an unchanged one never") {
  Harness h;
  h.config.anomalies.enabled = true;
  h.config.anomalies.monitor_arn = "arn:aws:ce::123456789012:anomalymonitor/m";
  h.config.anomalies.min_impact = 5;
  h.answers["GetAnomalies"] = {
      // day 1: two pages
      "{\"Anomalies\":[" + anomaly("grows", "2024-03-04", "10") + "],\"NextPageToken\":\"p2\"}",
      "{\"Anomalies\":[" + anomaly("still", "2024-03-03", "7") + "]}",
      // day 2: one grew, one did not
      "{\"Anomalies\":[" + anomaly("grows", "2024-03-05", "20") + "," +
          anomaly("still", "2024-03-03", "7") + "]}",
      // day 3 (after a restart): the same again, then grown
      "{\"Anomalies\":[" + anomaly("grows", "2024-03-06", "30.5") + "," +
          anomaly("still", "2024-03-03", "7") + "]}",
  };
  h.run();
  REQUIRE(h.count("GetAnomalies") == 2);
  const auto first = boost::json::parse(h.requests[0].second);
  CHECK(first.at("DateInterval").at("StartDate") == "2024-02-27");  // first run: the last week
  CHECK(first.at("MonitorArn") == "arn:aws:ce::123456789012:anomalymonitor/m");
  CHECK(first.at("TotalImpact").at("StartValue") == 5);
  CHECK(boost::json::parse(h.requests[1].second).at("NextPageToken") == "p2");
  CHECK(h.sink.received.size() == 2);
  h.run();  // the same day: no request
  CHECK(h.count("GetAnomalies") == 2);

  h.next_day();
  h.run();
  CHECK(h.count("GetAnomalies") == 3);
  CHECK(boost::json::parse(h.requests[2].second).at("DateInterval").at("StartDate") ==
        "2024-02-27");  // a week before the last check
  REQUIRE(h.sink.received.size() == 3);
  CHECK(h.sink.received[2].subject == "grows");

  // A restart: a new Insights reads insights.json.
  h.insights = std::make_unique<app::Insights>(
      h.config,
      [&h](std::string_view op, const std::string& body,
           const aws::CostExplorerClient::AnswerReader& read, bool) -> asio::awaitable<bool> {
        h.requests.emplace_back(op, body);
        std::string answer = h.answers["GetAnomalies"].front();
        h.answers["GetAnomalies"].pop_front();
        read(answer);
        co_return true;
      },
      h.sink, h.metrics, [&h] { return h.now; });
  h.next_day();
  h.run();
  REQUIRE(h.sink.received.size() == 4);
  CHECK(h.sink.received[3].subject == "grows");
  std::set<std::string> ids;
  for (const auto& e : h.sink.received)
    ids.insert(e.id);
  CHECK(ids.size() == 4);
  CHECK(h.errors("anomalies") == 0);
}

TEST_CASE("insights: an anomaly whose event failed is sent at the next run, the others not") {
  Harness h;
  h.config.anomalies.enabled = true;
  const std::string page = "{\"Anomalies\":[" + anomaly("a", "2024-03-04", "10") + "," +
                           anomaly("b", "2024-03-04", "11") + "]}";
  h.answers["GetAnomalies"] = {page, page, page};
  h.sink.refuse = {"b"};
  h.run();
  CHECK(h.sink.received.size() == 1);
  CHECK(h.errors("anomalies") == 1);
  CHECK(h.insights->warnings() == "anomalies: 1 anomaly events not delivered");
  h.sink.refuse.clear();
  h.run();  // the check was not complete: the same day tries again
  REQUIRE(h.sink.received.size() == 2);
  CHECK(h.sink.received[1].subject == "b");
  CHECK(h.insights->warnings().empty());
  h.next_day();
  h.run();
  CHECK(h.sink.received.size() == 2);
}

TEST_CASE("insights: a dry run remembers in memory only") {
  Harness h;
  h.config.forecast.enabled = true;
  h.config.anomalies.enabled = true;
  h.answers["GetCostForecast"] = {kForecast};
  h.answers["GetAnomalies"] = {"{\"Anomalies\":[" + anomaly("a", "2024-03-04", "10") + "]}"};
  h.run(false);
  h.run(false);
  CHECK(h.sink.received.size() == 2);
  CHECK(h.requests.size() == 2);
  CHECK_FALSE(std::filesystem::exists(h.dir / "insights.json"));
}

TEST_CASE("insights: a corrupt insights.json stops both checks, with a warning") {
  Harness h;
  h.config.forecast.enabled = true;
  h.config.anomalies.enabled = true;
  {
    std::ofstream out(h.dir / "insights.json");
    out << "{";
  }
  h.run();
  CHECK(h.requests.empty());
  CHECK(h.errors("forecast") == 1);
  CHECK(h.errors("anomalies") == 1);
  CHECK(h.insights->warnings().find("is corrupt") != std::string::npos);
}
