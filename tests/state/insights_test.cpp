// <state_dir>/insights.json: the format round trip, every way a file can be wrong, the atomic
// write (0600, no temp file left), the anomaly query window and pruning.

#include "state/insights.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>

#include "common/dates.hpp"
#include "support/temp_dir.hpp"

using namespace sab::state;
namespace fs = std::filesystem;

namespace {
Day ymd(const char* s) {
  return *sab::common::parse_date(s);
}

bool parse_fails(std::string_view text, std::string_view words) {
  try {
    (void)parse_insights(text);
  } catch (const StateError& e) {
    return std::string_view(e.what()).find(words) != std::string_view::npos;
  }
  return false;
}
}  // namespace

TEST_CASE("insights state: round trip and the empty state") {
  InsightsState s;
  CHECK(parse_insights(serialize_insights(s)) == s);
  s.forecast_sent = ymd("2024-02-29");
  s.anomalies_checked = ymd("2024-02-28");
  s.anomalies["a-1"] = SentAnomaly{"id-1", ymd("2024-02-28")};
  s.anomalies["with \"quotes\""] = SentAnomaly{"id-2", ymd("2024-01-02")};
  const std::string text = serialize_insights(s);
  CHECK(text.back() == '\n');
  CHECK(parse_insights(text) == s);
  CHECK(parse_insights(R"({"version":1})") == InsightsState{});
}

TEST_CASE("insights state: what is wrong is named") {
  CHECK(parse_fails("", "not valid JSON"));
  CHECK(parse_fails("[]", "not a JSON object"));
  CHECK(parse_fails(R"({"version":2})", "version"));
  CHECK(parse_fails(R"({"version":1,"forecast_sent":"2024-02-30"})", "forecast_sent"));
  CHECK(parse_fails(R"({"version":1,"anomalies_checked":5})", "anomalies_checked"));
  CHECK(parse_fails(R"({"version":1,"anomalies":[]})", "\"anomalies\" must be an object"));
  CHECK(parse_fails(R"({"version":1,"anomalies":{"a":{"seen":"2024-01-01"}}})", "anomaly 'a'"));
  CHECK(parse_fails(R"({"version":1,"anomalies":{"a":{"event":"e"}}})", "\"seen\""));
}

TEST_CASE("insights state: the anomaly window looks a week behind the watermark") {
  InsightsState s;
  CHECK(anomaly_query_start(s, ymd("2024-03-10")) == ymd("2024-03-03"));  // first: last 7 days
  s.anomalies_checked = ymd("2024-03-09");
  CHECK(anomaly_query_start(s, ymd("2024-03-10")) == ymd("2024-03-02"));
  s.anomalies_checked = ymd("2024-02-01");  // a long outage: everything since is asked for
  CHECK(anomaly_query_start(s, ymd("2024-03-10")) == ymd("2024-01-25"));
  s.anomalies_checked = ymd("2024-03-20");  // a clock that went back: never ahead of today
  CHECK(anomaly_query_start(s, ymd("2024-03-10")) == ymd("2024-03-03"));
}

TEST_CASE("insights state: pruning forgets anomalies not seen since a day") {
  InsightsState s;
  s.anomalies["old"] = SentAnomaly{"e1", ymd("2024-01-01")};
  s.anomalies["edge"] = SentAnomaly{"e2", ymd("2024-01-10")};
  s.anomalies["new"] = SentAnomaly{"e3", ymd("2024-03-01")};
  prune_anomalies(s, ymd("2024-01-10"));
  CHECK(s.anomalies.size() == 2);
  CHECK(s.anomalies.contains("edge"));
  CHECK(s.anomalies.contains("new"));
}

TEST_CASE("insights state: saved atomically with mode 0600, loaded back") {
  sab::test::TempDir dir{"insights-test"};
  CHECK_FALSE(load_insights(dir.path()).has_value());
  InsightsState s;
  s.forecast_sent = ymd("2024-03-05");
  s.anomalies["a"] = SentAnomaly{"e", ymd("2024-03-05")};
  save_insights(dir.path(), s);
  const auto loaded = load_insights(dir.path());
  REQUIRE(loaded);
  CHECK(*loaded == s);
  struct stat st {};
  REQUIRE(::stat((dir.path() / "insights.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(fs::exists(dir.path() / "insights.json.tmp"));

  {
    std::ofstream out(dir.path() / "insights.json", std::ios::trunc);
    out << "{\"version\":1,";
  }
  CHECK_THROWS_WITH_AS(load_insights(dir.path()), doctest::Contains("is corrupt"), StateError);
  // Like state.json: a state_dir that is missing is created; one that cannot be is an error.
  save_insights(dir.path() / "missing", s);
  CHECK(fs::exists(dir.path() / "missing" / "insights.json"));
  CHECK_THROWS_AS(save_insights(dir.path() / "insights.json" / "below", s), StateError);
}
