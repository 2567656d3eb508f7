// The pipeline's logic (restatement, checkpoint) with in-process fakes of Cost Explorer and the
// sink: real peers are exercised end to end in tests/integration.
#include "app/pipeline.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "app/cli.hpp"
#include "events/mapping.hpp"
#include "support/run_coroutine.hpp"
#include "support/temp_dir.hpp"

using namespace sab;
using app::Day;
namespace asio = boost::asio;

namespace {

Day ymd(const char* s) {
  return *app::parse_date(s);
}

common::CostPeriod period(const char* date,
                          std::vector<std::pair<std::string, std::string>> groups) {
  common::CostPeriod p;
  p.start = ymd(date);
  p.end = p.start + std::chrono::days{1};
  for (auto& [service, amount] : groups) {
    p.groups.push_back({{service}, {{"UnblendedCost", amount, "USD"}}});
  }
  return p;
}

struct FakeSink : delivery::EventSink {
  std::vector<events::Event> received;
  std::set<std::string> refuse;  // subjects that fail
  asio::awaitable<delivery::DeliveryResult> deliver(std::vector<events::Event> batch) override {
    delivery::DeliveryResult r;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& e = batch[i];
      if (refuse.contains(e.subject)) {
        ++r.failed;
        r.failed_at.push_back(i);
      } else {
        ++r.delivered;
        received.push_back(std::move(e));
      }
    }
    co_return r;
  }
};

struct Harness {
  config::Config config;
  metrics::Metrics metrics;
  FakeSink sink;
  std::vector<std::vector<common::CostPeriod>> pages;
  bool fail_fetch = false;
  int fetches = 0;

  Harness() { config.metrics = {"UnblendedCost"}; }

  app::PullOutcome pull(const app::PullRequest& request, state::State& state) {
    app::FetchFn fetch = [this](Day, Day, app::PageHandler handler) -> asio::awaitable<void> {
      ++fetches;
      for (auto page : pages)
        co_await handler(std::move(page));
      if (fail_fetch) throw std::runtime_error("throttled after retries");
    };
    app::Pipeline pipeline(config, fetch, sink, metrics,
                           [] { return std::chrono::system_clock::time_point{}; });
    asio::io_context io;
    return test::run_coroutine(io, pipeline.pull(request, state));
  }
};

app::PullRequest request(const char* first, const char* last) {
  return {{ymd(first), ymd(last)}, std::nullopt, std::nullopt};
}

}  // namespace

TEST_CASE("pipeline: every group of every page becomes an event") {
  Harness h;
  h.pages = {
      {period("2024-01-13", {{"Amazon S3", "1.5"}, {"AWS Lambda", "0.2"}})},
      {period("2024-01-13", {{"Amazon EC2", "9"}}), period("2024-01-14", {{"Amazon S3", "2"}})}};
  state::State state;
  auto outcome = h.pull(request("2024-01-13", "2024-01-14"), state);
  CHECK(outcome.fetched);
  CHECK(outcome.result.delivered == 4);
  CHECK(h.sink.received.size() == 4);
  CHECK(outcome.failed_periods.empty());
  CHECK(outcome.seen_periods.size() == 2);
  // The cost gauge shows the latest day only.
  const auto text = h.metrics.serialize();
  CHECK(text.find("aws_billing_source_cost{metric=\"UnblendedCost\",service=\"Amazon "
                  "S3\",unit=\"USD\"} 2") != std::string::npos);
  CHECK(text.find("AWS Lambda") == std::string::npos);
}

TEST_CASE("pipeline: the checkpoint moves over settled days only") {
  Harness h;
  h.pages = {{period("2024-01-12", {{"A", "1"}}), period("2024-01-13", {{"B", "1"}}),
              period("2024-01-14", {{"C", "1"}})}};
  h.sink.refuse = {"2024-01-13/B"};
  state::State state;
  const schedule::DayRange fresh{ymd("2024-01-12"), ymd("2024-01-14")};
  auto outcome = h.pull(request("2024-01-12", "2024-01-14"), state);
  CHECK(outcome.failed_periods == std::set<Day>{ymd("2024-01-13")});
  CHECK(app::advance_checkpoint(ymd("2024-01-11"), fresh, outcome, config::Granularity::daily) ==
        ymd("2024-01-12"));
  // A failed fetch moves nothing, whatever was delivered.
  outcome.fetched = false;
  CHECK(app::advance_checkpoint(ymd("2024-01-11"), fresh, outcome, config::Granularity::daily) ==
        ymd("2024-01-11"));
  // Days without any cost are settled too.
  app::PullOutcome empty;
  empty.fetched = true;
  CHECK(app::advance_checkpoint(std::nullopt, fresh, empty, config::Granularity::daily) ==
        ymd("2024-01-14"));
  // Never backwards.
  CHECK(app::advance_checkpoint(ymd("2024-01-20"), fresh, empty, config::Granularity::daily) ==
        ymd("2024-01-20"));
}

TEST_CASE("pipeline: MONTHLY checkpoints at month ends") {
  app::PullOutcome outcome;
  outcome.fetched = true;
  const schedule::DayRange fresh{ymd("2024-01-01"), ymd("2024-03-31")};
  CHECK(app::advance_checkpoint(std::nullopt, fresh, outcome, config::Granularity::monthly) ==
        ymd("2024-03-31"));
  outcome.failed_periods = {ymd("2024-02-01")};
  CHECK(app::advance_checkpoint(std::nullopt, fresh, outcome, config::Granularity::monthly) ==
        ymd("2024-01-31"));
}

TEST_CASE("pipeline: MONTHLY never checkpoints inside a month") {
  app::PullOutcome outcome;
  outcome.fetched = true;
  // A one-day period (what --once used to ask for) moves nothing.
  const schedule::DayRange day{ymd("2024-01-15"), ymd("2024-01-15")};
  CHECK(app::advance_checkpoint(ymd("2023-12-31"), day, outcome, config::Granularity::monthly) ==
        ymd("2023-12-31"));
  CHECK_FALSE(app::advance_checkpoint(std::nullopt, day, outcome, config::Granularity::monthly));
  // A range ending inside March moves to January's end and February's, not into March.
  const schedule::DayRange part{ymd("2024-01-01"), ymd("2024-03-15")};
  CHECK(app::advance_checkpoint(std::nullopt, part, outcome, config::Granularity::monthly) ==
        ymd("2024-02-29"));
}

TEST_CASE("pipeline: restatement emits exactly the changed groups") {
  Harness h;
  state::State state;
  app::PullRequest first = request("2024-01-13", "2024-01-14");
  first.digest_from = ymd("2024-01-13");
  h.pages = {{period("2024-01-13", {{"A", "1.00"}, {"B", "2.00"}}),
              period("2024-01-14", {{"A", "3.00"}})}};
  h.pull(first, state);
  CHECK(h.sink.received.size() == 3);
  CHECK(state.digests.size() == 2);

  // Next day: 01-13 and 01-14 restated; only B of 01-13 changed; 01-15 is fresh.
  h.sink.received.clear();
  app::PullRequest next = request("2024-01-13", "2024-01-15");
  next.restate = schedule::DayRange{ymd("2024-01-13"), ymd("2024-01-14")};
  next.digest_from = ymd("2024-01-14");
  h.pages = {{period("2024-01-13", {{"A", "1.00"}, {"B", "2.50"}}),
              period("2024-01-14", {{"A", "3.00"}}), period("2024-01-15", {{"A", "4.00"}})}};
  auto outcome = h.pull(next, state);
  REQUIRE(h.sink.received.size() == 2);
  CHECK(h.sink.received[0].subject == "2024-01-13/B");
  CHECK(h.sink.received[1].subject == "2024-01-15/A");
  CHECK(outcome.unchanged == 2);
  // Digests older than the window are dropped.
  CHECK(state.digests.count(ymd("2024-01-13")) == 0);
  CHECK(state.digests.count(ymd("2024-01-15")) == 1);

  // The same restatement again: nothing new.
  h.sink.received.clear();
  next.digest_from = ymd("2024-01-13");
  h.pages = {{period("2024-01-14", {{"A", "3.00"}})}};
  next.restate = schedule::DayRange{ymd("2024-01-14"), ymd("2024-01-14")};
  h.pull(next, state);
  CHECK(h.sink.received.empty());
}

TEST_CASE("pipeline: a restated change that fails is retried next time") {
  Harness h;
  state::State state;
  app::PullRequest first = request("2024-01-13", "2024-01-13");
  first.digest_from = ymd("2024-01-13");
  h.pages = {{period("2024-01-13", {{"A", "1"}})}};
  h.pull(first, state);
  app::PullRequest again = first;
  again.restate = schedule::DayRange{ymd("2024-01-13"), ymd("2024-01-13")};
  h.pages = {{period("2024-01-13", {{"A", "2"}})}};
  h.sink.refuse = {"2024-01-13/A"};
  h.sink.received.clear();
  h.pull(again, state);
  CHECK(h.sink.received.empty());
  h.sink.refuse.clear();
  h.pull(again, state);
  CHECK(h.sink.received.size() == 1);
}

TEST_CASE("pipeline: periods outside the request are ignored") {
  Harness h;
  h.pages = {{period("2024-01-01", {{"A", "1"}}), period("2024-01-13", {{"A", "1"}})}};
  state::State state;
  auto outcome = h.pull(request("2024-01-13", "2024-01-13"), state);
  CHECK(h.sink.received.size() == 1);
  CHECK(outcome.seen_periods.size() == 1);
}

TEST_CASE("pipeline: a failed fetch is reported, not thrown") {
  Harness h;
  h.fail_fetch = true;
  state::State state;
  auto outcome = h.pull(request("2024-01-13", "2024-01-13"), state);
  CHECK_FALSE(outcome.fetched);
  CHECK(outcome.error == "throttled after retries");
}

TEST_CASE("pipeline: the cost gauge keeps cost_gauge_series series, and an older day leaves it") {
  Harness h;
  h.config.cost_gauge_series = 2;
  std::vector<std::vector<common::CostPeriod>> pages = {
      {period("2024-01-14", {{"Amazon S3", "1.5"}, {"AWS Lambda", "0.2"}, {"Amazon EC2", "9"}})}};
  app::FetchFn fetch = [&pages](Day, Day, app::PageHandler handler) -> asio::awaitable<void> {
    for (auto page : pages)
      co_await handler(std::move(page));
  };
  app::Pipeline pipeline(h.config, fetch, h.sink, h.metrics,
                         [] { return std::chrono::system_clock::time_point{}; });
  const auto run = [&](const char* first, const char* last) {
    state::State state;
    // pull() takes the request by reference and runs after this statement: keep it alive.
    const auto req = request(first, last);
    asio::io_context io;
    return test::run_coroutine(io, pipeline.pull(req, state));
  };
  CHECK(run("2024-01-14", "2024-01-14").result.delivered == 3);
  auto text = h.metrics.serialize();
  CHECK(text.find("service=\"Amazon EC2\",unit=\"USD\"} 9") != std::string::npos);
  CHECK(text.find("service=\"Amazon S3\",unit=\"USD\"} 1.5") != std::string::npos);
  CHECK(text.find("AWS Lambda") == std::string::npos);

  // A later pull that brings only an older day (a restatement) does not empty the gauge.
  pages = {{period("2024-01-13", {{"Amazon S3", "4"}})}};
  CHECK(run("2024-01-13", "2024-01-13").result.delivered == 1);
  text = h.metrics.serialize();
  CHECK(text.find("service=\"Amazon EC2\",unit=\"USD\"} 9") != std::string::npos);
  CHECK(text.find("service=\"Amazon S3\",unit=\"USD\"} 1.5") != std::string::npos);
}

namespace {

// Delivers after a timer and records the order of fetches and deliveries.
struct SlowSink : delivery::EventSink {
  std::vector<std::string>& log;
  bool say_which = true;  // fill failed_at
  std::set<std::string> refuse;
  explicit SlowSink(std::vector<std::string>& l) : log(l) {}
  asio::awaitable<delivery::DeliveryResult> deliver(std::vector<events::Event> batch) override {
    log.push_back("deliver " + batch.front().subject.substr(0, 10) + " start");
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
    delivery::DeliveryResult r;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (refuse.contains(batch[i].subject)) {
        ++r.failed;
        if (say_which) r.failed_at.push_back(i);
      } else {
        ++r.delivered;
      }
    }
    log.push_back("deliver " + batch.front().subject.substr(0, 10) + " end");
    co_return r;
  }
};

app::PullOutcome pull_with(delivery::EventSink& sink, const config::Config& config,
                           std::vector<std::vector<common::CostPeriod>> pages,
                           std::vector<std::string>& log, state::State& state,
                           const app::PullRequest& req) {
  metrics::Metrics metrics;
  app::FetchFn fetch = [&](Day, Day, app::PageHandler handler) -> asio::awaitable<void> {
    for (auto& page : pages) {
      log.push_back("fetch " + app::format_date(page.front().start));
      co_await handler(std::move(page));
    }
  };
  app::Pipeline pipeline(config, fetch, sink, metrics,
                         [] { return std::chrono::system_clock::time_point{}; });
  asio::io_context io;
  return test::run_coroutine(io, pipeline.pull(req, state));
}

}  // namespace

TEST_CASE("pipeline: the next page is fetched while a page is delivered, one delivery at a time") {
  std::vector<std::string> log;
  SlowSink sink(log);
  config::Config config;
  state::State state;
  auto outcome = pull_with(sink, config,
                           {{period("2024-01-12", {{"A", "1"}})},
                            {period("2024-01-13", {{"B", "1"}})},
                            {period("2024-01-14", {{"C", "1"}})}},
                           log, state, request("2024-01-12", "2024-01-14"));
  CHECK(outcome.result.delivered == 3);
  CHECK(log == std::vector<std::string>{
                   "fetch 2024-01-12", "deliver 2024-01-12 start", "fetch 2024-01-13",
                   "deliver 2024-01-12 end", "deliver 2024-01-13 start", "fetch 2024-01-14",
                   "deliver 2024-01-13 end", "deliver 2024-01-14 start", "deliver 2024-01-14 end"});
}

TEST_CASE("pipeline: failures of a page with several days are settled per day") {
  std::vector<std::string> log;
  SlowSink sink(log);
  sink.refuse = {"2024-01-13/B"};
  config::Config config;
  state::State state;
  auto req = request("2024-01-12", "2024-01-14");
  req.digest_from = ymd("2024-01-01");
  const std::vector<std::vector<common::CostPeriod>> pages = {
      {period("2024-01-12", {{"A", "1"}}), period("2024-01-13", {{"B", "1"}, {"B2", "1"}}),
       period("2024-01-14", {{"C", "1"}})}};
  auto outcome = pull_with(sink, config, pages, log, state, req);
  CHECK(outcome.failed_periods == std::set<Day>{ymd("2024-01-13")});
  CHECK(outcome.result.failed == 1);
  CHECK(state.digests.contains(ymd("2024-01-12")));
  CHECK(state.digests.contains(ymd("2024-01-14")));
  CHECK_FALSE(state.digests.contains(ymd("2024-01-13")));

  // A sink that does not say which events failed fails every day of the page.
  sink.say_which = false;
  state = {};
  outcome = pull_with(sink, config, pages, log, state, req);
  CHECK(outcome.failed_periods.size() == 3);
  CHECK(state.digests.empty());
}

TEST_CASE("pipeline: the cost gauge is trimmed page by page and keeps the largest of the day") {
  // Memory: a day of many pages must not hold a gauge sample of every group until the pull ends;
  // trimming per page keeps the same largest series as trimming once.
  Harness h;
  h.config.cost_gauge_series = 3;
  std::vector<std::vector<common::CostPeriod>> pages;
  for (int p = 0; p < 4; ++p) {
    std::vector<std::pair<std::string, std::string>> groups;
    for (int g = 0; g < 3000; ++g) {
      const int n = p * 3000 + g;
      // The three largest amounts sit in pages 0, 2 and 3.
      std::string amount = n == 17 ? "900" : n == 6500 ? "800" : n == 11999 ? "700" : "0.5";
      groups.emplace_back("S" + std::to_string(n), amount);
    }
    pages.push_back({period("2024-01-14", groups)});
  }
  app::FetchFn fetch = [&pages](Day, Day, app::PageHandler handler) -> asio::awaitable<void> {
    for (auto page : pages)
      co_await handler(std::move(page));
  };
  app::Pipeline pipeline(h.config, fetch, h.sink, h.metrics,
                         [] { return std::chrono::system_clock::time_point{}; });
  state::State state;
  const auto req = request("2024-01-14", "2024-01-14");
  asio::io_context io;
  CHECK(test::run_coroutine(io, pipeline.pull(req, state)).result.delivered == 12000);
  const auto text = h.metrics.serialize();
  CHECK(text.find("service=\"S17\",unit=\"USD\"} 900") != std::string::npos);
  CHECK(text.find("service=\"S6500\",unit=\"USD\"} 800") != std::string::npos);
  CHECK(text.find("service=\"S11999\",unit=\"USD\"} 700") != std::string::npos);
  CHECK(text.find("service=\"S18\"") == std::string::npos);
}

namespace {

// A sink that acknowledges one request per event (binary mode's shape) and reports each one
// as settled, as the Deliverer does; `refuse` fails events, `dead_letter` dead-letters them.
struct AckingSink : delivery::EventSink {
  std::vector<std::string> received;  // subjects
  std::set<std::string> refuse;
  std::set<std::string> dead_letter;
  asio::awaitable<delivery::DeliveryResult> deliver(std::vector<events::Event> batch) override {
    delivery::DeliveryResult r;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& e = batch[i];
      if (refuse.contains(e.subject)) {
        ++r.failed;
        r.failed_at.push_back(i);
        continue;
      }
      received.push_back(e.subject);
      if (dead_letter.contains(e.subject)) {
        ++r.dead_lettered;
      } else {
        ++r.delivered;
      }
      report_settled(i, std::span(batch).subspan(i, 1));
    }
    co_return r;
  }
};

// A fresh directory for the journal, removed with it.
struct JournalDir {
  test::TempDir dir{"pipeline-journal"};
  const std::filesystem::path& path = dir.path();
};

app::PullOutcome pull_journalled(AckingSink& sink, state::AckJournal& journal,
                                 const std::vector<std::vector<common::CostPeriod>>& pages,
                                 const app::PullRequest& req, state::State& state,
                                 metrics::Metrics& metrics,
                                 std::optional<Day> skip_after = std::nullopt) {
  config::Config config;
  config.metrics = {"UnblendedCost"};
  app::FetchFn fetch = [&pages](Day, Day, app::PageHandler handler) -> asio::awaitable<void> {
    for (auto page : pages)
      co_await handler(std::move(page));
  };
  app::Pipeline pipeline(config, fetch, sink, metrics,
                         [] { return std::chrono::system_clock::time_point{}; });
  pipeline.use_journal(&journal, skip_after);
  asio::io_context io;
  return test::run_coroutine(io, pipeline.pull(req, state));
}

}  // namespace

TEST_CASE("pipeline: settled events are journalled; a restart sends only the others") {
  JournalDir dir;
  metrics::Metrics metrics;
  state::State state;
  const std::vector<std::vector<common::CostPeriod>> pages = {
      {period("2024-01-12", {{"A", "1"}, {"B", "1"}}), period("2024-01-13", {{"C", "1"}})},
      {period("2024-01-13", {{"D", "1"}, {"E", "1"}})}};
  const auto req = request("2024-01-12", "2024-01-13");
  {
    state::AckJournal journal(dir.path);
    journal.open(std::nullopt, std::nullopt);
    AckingSink sink;
    sink.refuse = {"2024-01-13/D"};       // not settled: sent again
    sink.dead_letter = {"2024-01-12/B"};  // settled: never sent again
    const auto outcome = pull_journalled(sink, journal, pages, req, state, metrics);
    CHECK(sink.received.size() == 4);
    CHECK(outcome.failed_periods == std::set<Day>{ymd("2024-01-13")});
    const auto records = journal.read();
    std::size_t ids = 0;
    for (const auto& r : records)
      ids += r.ids.size();
    CHECK(ids == 4);
  }
  // A new process: the journal as it was left.
  state::AckJournal journal(dir.path);
  journal.open(std::nullopt, std::nullopt);
  AckingSink sink;
  const auto outcome = pull_journalled(sink, journal, pages, req, state, metrics);
  CHECK(sink.received == std::vector<std::string>{"2024-01-13/D"});
  CHECK(outcome.journalled == 4);
  CHECK(outcome.result.delivered == 1);
  CHECK(outcome.failed_periods.empty());  // skipped events count as settled
  CHECK(metrics.serialize().find(
            "aws_billing_source_events_skipped_total{reason=\"journalled\"} 4") !=
        std::string::npos);
}

TEST_CASE("pipeline: --once re-sends days up to the checkpoint whole, journal or not") {
  JournalDir dir;
  metrics::Metrics metrics;
  state::State state;
  const std::vector<std::vector<common::CostPeriod>> pages = {
      {period("2024-01-12", {{"A", "1"}}), period("2024-01-13", {{"B", "1"}})}};
  const auto req = request("2024-01-12", "2024-01-13");
  state::AckJournal journal(dir.path);
  journal.open(std::nullopt, std::nullopt);
  AckingSink first;
  pull_journalled(first, journal, pages, req, state, metrics);
  AckingSink again;
  const auto outcome =
      pull_journalled(again, journal, pages, req, state, metrics, ymd("2024-01-12"));
  CHECK(again.received == std::vector<std::string>{"2024-01-12/A"});
  CHECK(outcome.journalled == 1);
}

TEST_CASE("pipeline: a restated change journalled before a crash is not sent again") {
  JournalDir dir;
  metrics::Metrics metrics;
  state::State state;
  app::PullRequest first = request("2024-01-13", "2024-01-13");
  first.digest_from = ymd("2024-01-13");
  state::AckJournal journal(dir.path);
  journal.open(std::nullopt, std::nullopt);
  AckingSink sink;
  pull_journalled(sink, journal, {{period("2024-01-13", {{"A", "1"}, {"B", "1"}})}}, first, state,
                  metrics);
  // state.json saved with checkpoint 01-13: the journal goes.
  journal.retain(ymd("2024-01-13"));
  CHECK(journal.read().empty());
  // B is restated (a new id) and delivered, then the process dies before saving the digests.
  app::PullRequest restate = first;
  restate.restate = schedule::DayRange{ymd("2024-01-13"), ymd("2024-01-13")};
  const std::vector<std::vector<common::CostPeriod>> changed = {
      {period("2024-01-13", {{"A", "1"}, {"B", "2"}})}};
  state::State unsaved = state;
  {
    state::AckJournal before(dir.path);
    before.open(ymd("2024-01-13"), ymd("2024-01-13"));
    AckingSink s;
    pull_journalled(s, before, changed, restate, unsaved, metrics);
    CHECK(s.received == std::vector<std::string>{"2024-01-13/B"});
  }
  // The restart (restatement window from 01-13): the journal still names B's new id.
  state::AckJournal after(dir.path);
  after.open(ymd("2024-01-13"), ymd("2024-01-13"));
  AckingSink s;
  const auto outcome = pull_journalled(s, after, changed, restate, state, metrics);
  CHECK(s.received.empty());
  CHECK(outcome.unchanged == 1);
  CHECK(outcome.journalled == 1);
  // B's new id is in the digests now (what state.json will hold).
  CHECK(state.digests[ymd("2024-01-13")].size() == 2);
}

namespace {

common::CostPeriod estimated(common::CostPeriod p, bool flag = true) {
  p.estimated = flag;
  return p;
}

std::vector<std::string> subjects(const std::vector<events::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e.subject);
  return out;
}

}  // namespace

TEST_CASE("pipeline: a followed period goes estimated, changed, final, then is left alone") {
  Harness h;
  state::State state;
  const Day d13 = ymd("2024-01-13");
  app::PullRequest first = request("2024-01-13", "2024-01-13");
  first.follow_from = ymd("2024-01-01");
  h.pages = {{estimated(period("2024-01-13", {{"A", "1"}, {"B", "2"}}))}};
  h.pull(first, state);
  CHECK(h.sink.received.size() == 2);
  CHECK(state.estimated == std::set<Day>{d13});
  CHECK(state.digests[d13].size() == 2);
  const auto first_ids = h.sink.received;

  // Next day: 01-13 followed in the same request period; B changed, still estimated.
  h.sink.received.clear();
  app::PullRequest second = request("2024-01-13", "2024-01-14");
  second.follow_from = ymd("2024-01-01");
  second.follow = {d13};
  second.delivered_until = d13;
  h.pages = {{estimated(period("2024-01-13", {{"A", "1"}, {"B", "2.5"}})),
              estimated(period("2024-01-14", {{"A", "4"}}))}};
  auto outcome = h.pull(second, state);
  CHECK(subjects(h.sink.received) == std::vector<std::string>{"2024-01-13/B", "2024-01-14/A"});
  CHECK(h.sink.received[0].estimated);
  CHECK(outcome.unchanged == 1);
  CHECK(state.estimated == std::set<Day>{d13, ymd("2024-01-14")});

  // 01-13 turned final: every group again, with new ids; 01-14 unchanged sends nothing.
  h.sink.received.clear();
  app::PullRequest third = request("2024-01-13", "2024-01-15");
  third.follow_from = ymd("2024-01-01");
  third.follow = {d13, ymd("2024-01-14")};
  third.delivered_until = ymd("2024-01-14");
  h.pages = {{estimated(period("2024-01-13", {{"A", "1"}, {"B", "2.5"}}), false),
              estimated(period("2024-01-14", {{"A", "4"}})),
              estimated(period("2024-01-15", {{"A", "5"}}))}};
  h.pull(third, state);
  CHECK(subjects(h.sink.received) ==
        std::vector<std::string>{"2024-01-13/A", "2024-01-13/B", "2024-01-15/A"});
  CHECK_FALSE(h.sink.received[0].estimated);
  CHECK(h.sink.received[0].id != first_ids[0].id);
  CHECK(state.estimated == std::set<Day>{ymd("2024-01-14"), ymd("2024-01-15")});
  // Not followed any more, and no restatement: its digests are gone from the state.
  CHECK_FALSE(state.digests.contains(d13));

  // A delivered period that is neither followed nor restated only rides along: ignored.
  h.sink.received.clear();
  app::PullRequest fourth = request("2024-01-13", "2024-01-15");
  fourth.follow_from = ymd("2024-01-01");
  fourth.follow = {ymd("2024-01-14"), ymd("2024-01-15")};
  fourth.delivered_until = ymd("2024-01-15");
  h.pages = {{estimated(period("2024-01-13", {{"A", "99"}}), false),
              estimated(period("2024-01-14", {{"A", "4"}})),
              estimated(period("2024-01-15", {{"A", "5"}}))}};
  outcome = h.pull(fourth, state);
  CHECK(h.sink.received.empty());
  CHECK_FALSE(outcome.seen_periods.contains(d13));

  // Leaving the window ends the following.
  fourth.follow_from = ymd("2024-01-15");
  fourth.follow = {ymd("2024-01-15")};
  h.pull(fourth, state);
  CHECK(state.estimated == std::set<Day>{ymd("2024-01-15")});
}

TEST_CASE("pipeline: summaries come after every group of their period, once per change") {
  Harness h;
  h.config.events.summary = true;
  state::State state;
  app::PullRequest first = request("2024-01-13", "2024-01-14");
  first.follow_from = ymd("2024-01-01");
  common::CostPeriod empty = estimated(period("2024-01-14", {}));
  h.pages = {{estimated(period("2024-01-13", {{"A", "1.5"}}))},
             {estimated(period("2024-01-13", {{"B", "0.25"}})), empty}};
  auto outcome = h.pull(first, state);
  REQUIRE(h.sink.received.size() == 4);
  CHECK(subjects(h.sink.received) ==
        std::vector<std::string>{"2024-01-13/A", "2024-01-13/B", "2024-01-13", "2024-01-14"});
  const auto summary = h.sink.received[2];  // a copy: the sink forgets what it received below
  CHECK(summary.type == "aws.billing.summary.daily");
  CHECK(summary.data.find(R"("groups":2,"estimated":true,)"
                          R"("totals":{"unblendedCost":[{"amount":"1.75","unit":"USD"}]})") !=
        std::string::npos);
  CHECK(h.sink.received[3].data.find(R"("groups":0)") != std::string::npos);
  CHECK(outcome.result.delivered == 4);
  CHECK(state.summaries.size() == 2);

  // Pulled again unchanged: nothing, not even a summary.
  h.sink.received.clear();
  app::PullRequest again = request("2024-01-13", "2024-01-14");
  again.follow_from = ymd("2024-01-01");
  again.follow = {ymd("2024-01-13"), ymd("2024-01-14")};
  again.delivered_until = ymd("2024-01-14");
  h.pull(again, state);
  CHECK(h.sink.received.empty());

  // B changed: B, then a new summary of 01-13.
  h.pages = {{estimated(period("2024-01-13", {{"A", "1.5"}, {"B", "0.5"}})), empty}};
  h.pull(again, state);
  REQUIRE(subjects(h.sink.received) == std::vector<std::string>{"2024-01-13/B", "2024-01-13"});
  CHECK(h.sink.received[1].id != summary.id);
  CHECK(h.sink.received[1].data.find(R"("amount":"2")") != std::string::npos);
}

TEST_CASE("pipeline: a period with an event not delivered gets no summary, and no checkpoint") {
  Harness h;
  h.config.events.summary = true;
  h.sink.refuse = {"2024-01-13/B"};
  state::State state;
  h.pages = {{period("2024-01-12", {{"A", "1"}}), period("2024-01-13", {{"A", "1"}, {"B", "1"}})}};
  auto outcome = h.pull(request("2024-01-12", "2024-01-13"), state);
  CHECK(subjects(h.sink.received) ==
        std::vector<std::string>{"2024-01-12/A", "2024-01-13/A", "2024-01-12"});
  CHECK(outcome.failed_periods == std::set<Day>{ymd("2024-01-13")});
  // A refused summary holds its period back like any event.
  h.sink.refuse = {"2024-01-12"};
  h.sink.received.clear();
  outcome = h.pull(request("2024-01-12", "2024-01-12"), state);
  CHECK(outcome.failed_periods == std::set<Day>{ymd("2024-01-12")});
  CHECK(app::advance_checkpoint(ymd("2024-01-11"),
                                schedule::DayRange{ymd("2024-01-12"), ymd("2024-01-12")}, outcome,
                                config::Granularity::daily) == ymd("2024-01-11"));
}

TEST_CASE(
    "pipeline: digests of version 1 are compared on amounts; nothing re-sent, summaries count "
    "them") {
  Harness h;
  const Day d13 = ymd("2024-01-13");
  const auto p = period("2024-01-13", {{"A", "1"}, {"B", "2"}});
  // What version 1 stored: the ids of that time, i.e. the digests of the amounts.
  state::State state;
  for (const auto& e : events::make_events(p, h.config.group_by, h.config.granularity, {})) {
    state.digests[d13][state::group_key(e.subject)] =
        std::string(state::kAmountsDigest) + events::to_string(e.amounts);
  }
  app::PullRequest restate = request("2024-01-13", "2024-01-13");
  restate.restate = schedule::DayRange{d13, d13};
  restate.digest_from = d13;
  restate.delivered_until = d13;
  h.pages = {{p}};
  auto outcome = h.pull(restate, state);
  CHECK(h.sink.received.empty());
  CHECK(outcome.unchanged == 2);
  // The sink holds them under their old ids: those stay their digests (a summary counts them).
  for (const auto& [key, id] : state.digests[d13])
    CHECK(id.starts_with(state::kAmountsDigest));
  outcome = h.pull(restate, state);
  CHECK(h.sink.received.empty());
  CHECK(outcome.unchanged == 2);
  // B changes: it goes out with today's id, which becomes its digest; the summary counts A's old
  // id and B's new one, the ids the sink holds.
  h.config.events.summary = true;
  h.pages = {{period("2024-01-13", {{"A", "1"}, {"B", "3"}})}};
  outcome = h.pull(restate, state);
  REQUIRE(subjects(h.sink.received) == std::vector<std::string>{"2024-01-13/B", "2024-01-13"});
  const auto now = events::make_events(h.pages[0][0], h.config.group_by, h.config.granularity, {});
  CHECK(state.digests[d13][state::group_key("2024-01-13/B")] == now[1].id);
  CHECK(state.digests[d13][state::group_key("2024-01-13/A")] ==
        std::string(state::kAmountsDigest) + events::to_string(now[0].amounts));
  events::PeriodTally held;
  held.add_period(h.pages[0][0], now, {true, false});
  CHECK(h.sink.received[1].data.find(held.ids_digest()) != std::string::npos);
}

TEST_CASE("pipeline: acknowledgements journalled by version 1 (ids without the flag) are kept") {
  JournalDir dir;
  metrics::Metrics metrics;
  state::State state;
  config::Config config;
  config.metrics = {"UnblendedCost"};
  const auto p = period("2024-01-13", {{"A", "1"}, {"B", "1"}});
  const auto made = events::make_events(p, config.group_by, config.granularity, {});
  state::AckJournal journal(dir.path);
  journal.open(std::nullopt, std::nullopt);
  state::RecordBuilder records;
  records.add(ymd("2024-01-13"), state::id_digest(events::to_string(made[0].amounts)));
  journal.append(records);
  AckingSink sink;
  const auto outcome =
      pull_journalled(sink, journal, {{p}}, request("2024-01-13", "2024-01-13"), state, metrics);
  CHECK(sink.received == std::vector<std::string>{"2024-01-13/B"});
  CHECK(outcome.journalled == 1);
}
