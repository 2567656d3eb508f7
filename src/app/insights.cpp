#include "app/insights.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <map>

#include "aws/insights_api.hpp"
#include "common/log.hpp"
#include "events/insights.hpp"

namespace sab::app {
namespace asio = boost::asio;

namespace {

// Most GetAnomalies pages one check reads: a paging loop that never ends is an error.
constexpr std::size_t kMaxAnomalyPages = 1000;

common::Day utc_today(const WallClock& now) {
  return std::chrono::floor<std::chrono::days>(now());
}

// What a delivery left undelivered: the indices it names, or all when it names fewer.
std::vector<bool> failed_events(const delivery::DeliveryResult& result, std::size_t count) {
  std::vector<bool> failed(count, false);
  if (result.failed == 0) return failed;
  if (result.failed_at.size() < result.failed) return std::vector<bool>(count, true);
  for (std::size_t i : result.failed_at) {
    if (i < count) failed[i] = true;
  }
  return failed;
}

std::string undelivered(const delivery::DeliveryResult& result, std::string_view what) {
  std::string why = std::to_string(result.failed) + " " + std::string(what) + " not delivered";
  if (!result.target_problem.empty()) why += " (" + result.target_problem + ")";
  return why;
}

}  // namespace

Insights::Insights(const config::Config& config, CallFn call, delivery::EventSink& sink,
                   metrics::Metrics& metrics, WallClock now)
    : config_(config),
      call_(std::move(call)),
      sink_(sink),
      metrics_(metrics),
      now_(std::move(now)) {}

bool Insights::enabled() const {
  return config_.forecast.enabled || config_.anomalies.enabled;
}

asio::awaitable<void> Insights::run(bool persist) {
  if (!enabled()) co_return;
  persist_ = persist;
  stopping_ = false;
  auto state = load();
  if (!state) co_return;
  const common::Day today = utc_today(now_);
  if (config_.forecast.enabled) co_await forecast(today, *state);
  if (config_.anomalies.enabled && !stopping_) co_await anomalies(today, *state);
  if (!stopping_) {
    log::info("forecast and anomaly checks done",
              {{"day", common::format_date(today)}, {"warnings", warnings()}});
  }
}

std::string Insights::warnings() const {
  std::string out;
  for (const auto* w : {&forecast_warning_, &anomalies_warning_}) {
    if (w->empty()) continue;
    if (!out.empty()) out += "; ";
    out += *w;
  }
  return out;
}

void Insights::fail(std::string_view kind, const std::string& why) {
  metrics_.insight_errors(kind).Increment();
  log::error(kind == "forecast" ? "forecast failed; it is tried again with the next pull"
                                : "anomaly check failed; it is tried again with the next pull",
             {{"error", why}});
  (kind == "forecast" ? forecast_warning_ : anomalies_warning_) =
      std::string(kind) + ": " + log::redact(why);
}

std::optional<state::InsightsState> Insights::load() {
  if (memory_) return memory_;
  std::string error;
  try {
    auto loaded = state::load_insights(config_.state_dir);
    return loaded.value_or(state::InsightsState{});
  } catch (const state::StateError& e) {
    error = e.what();
  }
  // Without it the checks could repeat what went out before: they wait until it is fixed.
  if (config_.forecast.enabled) fail("forecast", error);
  if (config_.anomalies.enabled) fail("anomalies", error);
  return std::nullopt;
}

void Insights::save(const state::InsightsState& state) {
  if (!persist_) {
    memory_ = state;
    return;
  }
  try {
    state::save_insights(config_.state_dir, state);
  } catch (const state::StateError& e) {
    // Delivered, not remembered: the next check sends it again (same id, a sink drops it).
    log::error("cannot save the forecast and anomaly state", {{"error", e.what()}});
  }
}

asio::awaitable<void> Insights::forecast(common::Day today, state::InsightsState& state) {
  if (state.forecast_sent == today) co_return;  // one a day
  const auto& cfg = config_.forecast;
  const aws::TimePeriod period = aws::forecast_period(today);
  const std::string body = aws::build_forecast_body({period, cfg.metric, cfg.prediction_interval});
  common::Forecast forecast;
  std::string error;
  try {
    co_await call_(
        aws::kGetCostForecast, body,
        [&forecast](std::string& answer) { forecast = aws::parse_forecast(answer); }, false);
  } catch (const boost::system::system_error& e) {
    stopping_ = e.code() == asio::error::operation_aborted;
    error = e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (stopping_) co_return;
  if (!error.empty()) {
    fail("forecast", error);
    co_return;
  }
  forecast.start = period.start;
  forecast.end = period.end;
  std::vector<events::Event> batch{
      events::make_forecast_event(forecast, {cfg.metric, cfg.prediction_interval, today}, now_())};
  const std::string month = batch.front().subject;
  const auto result = co_await sink_.deliver(std::move(batch));
  if (!result.settled()) {
    fail("forecast", undelivered(result, "forecast event"));
    co_return;
  }
  state.forecast_sent = today;
  save(state);
  forecast_warning_.clear();
  log::info("forecast delivered", {{"month", month},
                                   {"mean", forecast.mean},
                                   {"unit", forecast.unit},
                                   {"dead_lettered", result.dead_lettered}});
}

asio::awaitable<std::vector<common::Anomaly>> Insights::list_anomalies(common::Day start) {
  std::vector<common::Anomaly> out;
  bool restarted = false;
  aws::AnomalyQuery query{start, config_.anomalies.monitor_arn, config_.anomalies.min_impact, {}};
  for (std::size_t pages = 1;; ++pages) {
    if (pages > kMaxAnomalyPages) {
      throw aws::CostExplorerError(
          aws::CeErrorKind::bad_response,
          "GetAnomalies paging did not end after " + std::to_string(kMaxAnomalyPages) + " pages");
    }
    aws::AnomalyPage page;
    const auto read = [&page](std::string& answer) { page = aws::parse_anomalies(answer); };
    if (!co_await call_(aws::kGetAnomalies, aws::build_anomalies_body(query), read, restarted)) {
      // The paging token expired: the listing starts over, once.
      restarted = true;
      out.clear();
      query.next_page_token.clear();
      continue;
    }
    if (!page.next_page_token.empty() && page.next_page_token == query.next_page_token) {
      throw aws::CostExplorerError(aws::CeErrorKind::bad_response,
                                   "GetAnomalies returned the same NextPageToken twice");
    }
    for (auto& a : page.anomalies)
      out.push_back(std::move(a));
    if (page.next_page_token.empty()) co_return out;
    query.next_page_token = std::move(page.next_page_token);
  }
}

asio::awaitable<bool> Insights::deliver_anomalies(const std::vector<common::Anomaly>& anomalies,
                                                  common::Day today, state::InsightsState& state) {
  // One event per anomaly id (the last listed wins), only when its id is news.
  std::map<std::string_view, const common::Anomaly*> by_id;
  for (const auto& a : anomalies)
    by_id[a.id] = &a;
  std::vector<events::Event> batch;
  std::vector<std::string> ids;
  const auto now = now_();
  for (const auto& [id, a] : by_id) {
    events::Event event = events::make_anomaly_event(*a, now);
    auto known = state.anomalies.find(id);
    if (known != state.anomalies.end() && known->second.event_id == event.id) {
      known->second.seen = today;
      continue;
    }
    ids.emplace_back(id);
    batch.push_back(std::move(event));
  }
  if (batch.empty()) co_return true;
  std::vector<std::string> event_ids;
  event_ids.reserve(batch.size());
  for (const auto& e : batch)
    event_ids.push_back(e.id);
  const auto result = co_await sink_.deliver(std::move(batch));
  const auto failed = failed_events(result, ids.size());
  // Only what was acknowledged (or dead-lettered) is remembered: the rest goes out next time.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!failed[i]) state.anomalies[ids[i]] = state::SentAnomaly{event_ids[i], today};
  }
  log::info("anomaly events delivered", {{"anomalies", by_id.size()},
                                         {"sent", ids.size() - result.failed},
                                         {"failed", result.failed},
                                         {"dead_lettered", result.dead_lettered}});
  if (!result.settled()) fail("anomalies", undelivered(result, "anomaly events"));
  co_return result.settled();
}

asio::awaitable<void> Insights::anomalies(common::Day today, state::InsightsState& state) {
  if (state.anomalies_checked == today) co_return;  // once a day
  const common::Day start = state::anomaly_query_start(state, today);
  std::vector<common::Anomaly> listed;
  std::string error;
  try {
    listed = co_await list_anomalies(start);
  } catch (const boost::system::system_error& e) {
    stopping_ = e.code() == asio::error::operation_aborted;
    error = e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (stopping_) co_return;
  if (!error.empty()) {
    fail("anomalies", error);
    co_return;
  }
  log::debug("anomalies listed",
             {{"since", common::format_date(start)}, {"anomalies", listed.size()}});
  const bool settled = co_await deliver_anomalies(listed, today, state);
  if (settled) {
    state.anomalies_checked = today;
    anomalies_warning_.clear();
  }
  state::prune_anomalies(state, today - state::kAnomalyMemory);
  save(state);
}

}  // namespace sab::app
