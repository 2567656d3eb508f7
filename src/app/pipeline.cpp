#include "app/pipeline.hpp"

#include <cstdlib>

#include "app/cli.hpp"
#include "app/log.hpp"
#include "events/mapping.hpp"

namespace sab::app {
namespace asio = boost::asio;

Pipeline::Pipeline(const config::Config& config, FetchFn fetch, delivery::EventSink& sink,
                   metrics::Metrics& metrics, WallClock now)
    : config_(config),
      fetch_(std::move(fetch)),
      sink_(sink),
      metrics_(metrics),
      now_(std::move(now)) {
  for (const auto& g : config_.group_by)
    cost_labels_.push_back(metrics::label_name(g.type, g.key));
}

asio::awaitable<PullOutcome> Pipeline::pull(const PullRequest& request, state::State& state) {
  PullOutcome outcome;
  gauge_touched_ = false;
  try {
    co_await fetch_(request.period.first, request.period.end_exclusive(),
                    [&](std::vector<common::CostPeriod>&& periods) -> asio::awaitable<void> {
                      co_await on_page(std::move(periods), request, state, outcome);
                    });
    outcome.fetched = true;
  } catch (const std::exception& e) {
    outcome.error = e.what();
  }
  if (request.digest_from) state::prune_digests(state, *request.digest_from);
  if (gauge_touched_) {
    const std::size_t dropped =
        metrics::keep_largest_costs(gauge_samples_, config_.cost_gauge_series);
    if (dropped != 0) {
      log::info("cost gauge keeps the largest amounts only (cost_gauge_series)",
                {{"kept", gauge_samples_.size()}, {"dropped", dropped}});
    }
    metrics_.set_costs(cost_labels_, gauge_samples_);
    gauge_samples_ = {};  // the registry holds them now
  }
  co_return outcome;
}

asio::awaitable<void> Pipeline::on_page(std::vector<common::CostPeriod>&& periods,
                                        const PullRequest& request, state::State& state,
                                        PullOutcome& outcome) {
  for (auto& period : periods) {
    const Day day = period.start;
    if (day < request.period.first || day > request.period.last) {
      log::warn("Cost Explorer answered a period outside the request; ignored",
                {{"start", format_date(day)}});
      continue;
    }
    outcome.seen_periods.insert(day);
    update_cost_gauge(period);
    auto events = events::make_events(period, config_.group_by, config_.granularity, now_());
    const bool restated =
        request.restate && day >= request.restate->first && day <= request.restate->last;
    const bool keep_digest = request.digest_from && day >= *request.digest_from;
    std::vector<std::pair<std::string, std::string>> digests;  // group key -> id, once settled
    if (restated) {
      // Only groups whose amounts changed (a new id) or that are new go out again.
      auto& known = state.digests[day];
      std::erase_if(events, [&](const events::Event& e) {
        auto it = known.find(state::group_key(e.subject));
        const bool same = it != known.end() && it->second == e.id;
        if (same) ++outcome.unchanged;
        return same;
      });
    }
    if (keep_digest) {
      for (const auto& e : events)
        digests.emplace_back(state::group_key(e.subject), e.id);
    }
    if (events.empty()) continue;
    const std::size_t count = events.size();
    auto result = co_await sink_.deliver(std::move(events));
    outcome.result += result;
    if (!result.settled()) {
      outcome.failed_periods.insert(day);
      log::warn("events of a billing period not delivered",
                {{"date", format_date(day)}, {"events", count}, {"failed", result.failed}});
    } else if (keep_digest) {
      auto& known = state.digests[day];
      for (auto& [key, id] : digests)
        known[key] = std::move(id);
    }
  }
}

void Pipeline::update_cost_gauge(const common::CostPeriod& period) {
  // The gauge shows the latest billing period of the pull; older ones are dropped as they pass.
  if (config_.cost_gauge_series == 0 || (gauge_day_ && period.start < *gauge_day_)) return;
  // A newer day, or the same day pulled again, replaces the samples.
  if (!gauge_day_ || period.start > *gauge_day_ || !gauge_touched_) {
    gauge_day_ = period.start;
    gauge_samples_.clear();
    gauge_touched_ = true;
  }
  for (const auto& group : period.groups) {
    for (const auto& m : group.metrics) {
      // A gauge needs a number; the events keep the exact string.
      gauge_samples_.push_back(
          {group.keys, m.name, m.unit, std::strtod(m.amount.c_str(), nullptr)});
    }
  }
}

std::optional<Day> advance_checkpoint(std::optional<Day> checkpoint,
                                      const std::optional<schedule::DayRange>& fresh,
                                      const PullOutcome& outcome, config::Granularity granularity) {
  if (!fresh || !outcome.fetched) return checkpoint;
  std::optional<Day> result = checkpoint;
  Day start = fresh->first;
  while (start <= fresh->last) {
    Day next;
    if (granularity == config::Granularity::daily) {
      next = start + std::chrono::days{1};
    } else {
      const std::chrono::year_month_day ymd{start};
      next = Day{(ymd.year() / ymd.month() + std::chrono::months{1}) / std::chrono::day{1}};
    }
    if (outcome.failed_periods.contains(start)) break;
    const Day unit_last = std::min(next - std::chrono::days{1}, fresh->last);
    if (!result || unit_last > *result) result = unit_last;
    start = next;
  }
  return result;
}

}  // namespace sab::app
