#include "app/pipeline.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <cstdlib>
#include <iterator>
#include <map>

#include "app/cli.hpp"
#include "common/log.hpp"
#include "common/tasks.hpp"
#include "events/mapping.hpp"

namespace sab::app {
namespace asio = boost::asio;

namespace {

// A digest of version 1: the id of an earlier version, without the estimated flag.
std::string legacy_digest(const events::Event& e) {
  return std::string(state::kAmountsDigest) + events::to_string(e.amounts);
}

}  // namespace

Pipeline::Pipeline(const config::Config& config, FetchFn fetch, delivery::EventSink& sink,
                   metrics::Metrics& metrics, WallClock now)
    : config_(config),
      fetch_(std::move(fetch)),
      sink_(sink),
      metrics_(metrics),
      now_(std::move(now)) {
  for (std::size_t i = 0; i < config_.group_by.size(); ++i) {
    const auto& g = config_.group_by[i];
    cost_labels_.push_back(metrics::label_name(g.type, g.key));
    if (g.type == "DIMENSION" && g.key == "LINKED_ACCOUNT" && !account_index_) account_index_ = i;
  }
}

// What a period of a page leaves in the state once settled: its groups' ids and whether it is
// (still) followed.
struct Pipeline::PeriodDigests {
  Day day;
  std::optional<bool> followed;  // true: follow it; false: stop; none: leave as it is
  std::vector<std::pair<std::string, std::string>> groups;  // group key -> event id
};

// One page's events on their way to the sink while the next page is fetched, and what is needed
// to settle them: which day each event belongs to and the digests to keep once delivered.
struct Pipeline::InFlight {
  explicit InFlight(const asio::any_io_executor& executor)
      : signal(executor, asio::steady_timer::time_point::max()) {}
  asio::steady_timer signal;  // cancelled when the delivery is done
  bool done = false;
  delivery::DeliveryResult result;
  std::string error;  // the delivery task ended with an exception
  std::size_t events = 0;
  std::vector<std::pair<Day, std::size_t>> day_ends;  // (day, end index in the batch), in order
  std::vector<PeriodDigests> digests;
  std::vector<std::pair<Day, std::string>> summaries;  // summary ids to record once delivered
};

asio::awaitable<PullOutcome> Pipeline::pull(const PullRequest& request, state::State& state) {
  PullOutcome outcome;
  gauge_touched_ = false;
  tallies_.clear();
  skip_ = journalled_events();
  try {
    if (request.extra) co_await fetch_period(*request.extra, request, state, outcome);
    co_await fetch_period(request.period, request, state, outcome);
    outcome.fetched = true;
  } catch (const boost::system::system_error& e) {
    // A shutdown cancelled the fetch: its days stay pending.
    outcome.cancelled = e.code() == asio::error::operation_aborted;
    outcome.error = outcome.cancelled ? "cancelled by shutdown" : e.what();
  } catch (const std::exception& e) {
    outcome.error = e.what();
  }
  // The last page (or the one in flight when the fetch failed) settles before the outcome, even
  // when a shutdown cancelled the fetch: its deliveries have their own deadline.
  const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await settle_in_flight(state, outcome);
  // Summaries only once every page arrived and settled: each follows all its groups.
  if (outcome.fetched && config_.events.summary) co_await send_summaries(state, outcome);
  co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
  skip_ = {};
  tallies_.clear();
  // Followed periods leave the window as days pass; digests are kept for what the next pulls
  // compare only.
  if (request.follow_from) {
    state.estimated.erase(state.estimated.begin(),
                          state.estimated.lower_bound(*request.follow_from));
  } else {
    state.estimated.clear();
  }
  state::prune_unused(state, request.digest_from);
  if (gauge_touched_) {
    const std::size_t dropped =
        gauge_dropped_ + metrics::keep_largest_costs(gauge_samples_, config_.cost_gauge_series);
    gauge_dropped_ = 0;
    if (dropped != 0) {
      log::info("cost gauge keeps the largest amounts only (cost_gauge_series)",
                {{"kept", gauge_samples_.size()}, {"dropped", dropped}});
    }
    metrics_.set_costs(cost_labels_, gauge_samples_);
    gauge_samples_ = {};  // the registry holds them now
  }
  co_return outcome;
}

asio::awaitable<void> Pipeline::fetch_period(const schedule::DayRange& period,
                                             const PullRequest& request, state::State& state,
                                             PullOutcome& outcome) {
  co_await fetch_(period.first, period.end_exclusive(),
                  [&](std::vector<common::CostPeriod>&& periods) -> asio::awaitable<void> {
                    co_await on_page(std::move(periods), request, state, outcome);
                  });
}

Pipeline::Role Pipeline::role_of(const PullRequest& request, Day day) const {
  if (request.follow.contains(day)) return Role::followed;
  if (request.restate && day >= request.restate->first && day <= request.restate->last) {
    return Role::restated;
  }
  if (request.delivered_until && day <= *request.delivered_until) return Role::ignored;
  return Role::fresh;
}

asio::awaitable<void> Pipeline::on_page(std::vector<common::CostPeriod>&& periods,
                                        const PullRequest& request, state::State& state,
                                        PullOutcome& outcome) {
  // No co_await inside a larger expression with temporaries: g++ 12 may destroy them twice.
  const auto executor = co_await asio::this_coro::executor;
  auto page = std::make_shared<InFlight>(executor);
  std::vector<events::Event> batch = page_events(periods, request, state, outcome, *page);

  // The parsed page is not needed any more: free it before waiting for the page in flight.
  periods.clear();
  periods.shrink_to_fit();

  // deliver() calls never overlap: the previous page settles before this one starts. Returning
  // while this page is delivered lets the client fetch the next page meanwhile.
  co_await settle_in_flight(state, outcome);
  page->events = batch.size();
  if (batch.empty()) {
    page->done = true;
    apply(*page, state, outcome);
    co_return;
  }
  start_delivery(executor, std::move(page), std::move(batch));
}

std::vector<events::Event> Pipeline::page_events(const std::vector<common::CostPeriod>& periods,
                                                 const PullRequest& request,
                                                 const state::State& state, PullOutcome& outcome,
                                                 InFlight& page) {
  const auto requested = [&](Day day) {
    const auto in = [day](const schedule::DayRange& r) { return day >= r.first && day <= r.last; };
    return in(request.period) || (request.extra && in(*request.extra));
  };
  std::vector<events::Event> batch;
  for (const auto& period : periods) {
    const Day day = period.start;
    if (!requested(day)) {
      log::warn("Cost Explorer answered a period outside the request; ignored",
                {{"start", format_date(day)}});
      continue;
    }
    // A delivered period between followed ones: in the request only to keep it one request.
    const Role role = role_of(request, day);
    if (role == Role::ignored) continue;
    outcome.seen_periods.insert(day);
    update_cost_gauge(period);
    auto events = period_events(period, role, request, state, outcome, page);
    if (events.empty()) continue;
    if (batch.empty()) {
      batch = std::move(events);
    } else {
      batch.insert(batch.end(), std::make_move_iterator(events.begin()),
                   std::make_move_iterator(events.end()));
    }
    page.day_ends.emplace_back(day, batch.size());
  }
  return batch;
}

std::vector<events::Event> Pipeline::period_events(const common::CostPeriod& period, Role role,
                                                   const PullRequest& request,
                                                   const state::State& state, PullOutcome& outcome,
                                                   InFlight& page) {
  const Day day = period.start;
  auto events = events::make_events(period, config_.group_by, config_.granularity, now_());
  const auto known = role == Role::fresh ? state.digests.end() : state.digests.find(day);
  // Groups the sink holds under an earlier version's id (unchanged since): that id stays theirs.
  const auto as_before =
      known == state.digests.end() ? std::vector<bool>{} : held_as_before(events, known->second);
  if (config_.events.summary) {
    // Every group counts, whether it goes out again or not.
    auto& tally = tallies_[day];
    tally.tally.add_period(period, events, as_before);
    tally.fresh = tally.fresh || role == Role::fresh;
  }
  // Followed from now on while AWS says estimated and it is recent enough; a followed period
  // that turned final (or left the window) is not any more.
  std::optional<bool> followed;
  if (request.follow_from && period.estimated && day >= *request.follow_from) {
    followed = true;
  } else if (role == Role::followed) {
    followed = false;
  }
  if ((request.digest_from && day >= *request.digest_from) || followed) {
    // Every event of the period, unchanged and journalled ones included: the sink holds them all.
    auto& digests = page.digests.emplace_back(PeriodDigests{day, followed, {}});
    digests.groups.reserve(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      digests.groups.emplace_back(state::group_key(e.subject),
                                  i < as_before.size() && as_before[i] ? legacy_digest(e) : e.id);
    }
  }
  const bool changed = role == Role::fresh || drop_unchanged(events, period, state, outcome);
  if (changed && config_.events.summary) tallies_[day].changed = true;
  drop_journalled(events, day, outcome);
  return events;
}

std::vector<bool> Pipeline::held_as_before(const std::vector<events::Event>& events,
                                           const std::map<std::string, std::string>& known) {
  std::vector<bool> out;
  if (std::none_of(known.begin(), known.end(), [](const auto& entry) {
        return entry.second.starts_with(state::kAmountsDigest);
      })) {
    return out;
  }
  out.resize(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto it = known.find(state::group_key(events[i].subject));
    out[i] = it != known.end() && it->second == legacy_digest(events[i]);
  }
  return out;
}

bool Pipeline::drop_unchanged(std::vector<events::Event>& events, const common::CostPeriod& period,
                              const state::State& state, PullOutcome& outcome) const {
  const auto known_it = state.digests.find(period.start);
  // Nothing to compare with (delivered before restatement was on): every group goes out.
  if (known_it == state.digests.end()) return true;
  const auto& known = known_it->second;
  std::size_t present = 0;
  // The id covers the amounts and the estimated flag: a changed amount, or a period that turned
  // final, gives a new one. A digest of version 1 covers the amounts alone.
  std::erase_if(events, [&](const events::Event& e) {
    auto it = known.find(state::group_key(e.subject));
    if (it == known.end()) return false;
    ++present;
    const bool same = it->second == e.id || (it->second.starts_with(state::kAmountsDigest) &&
                                             it->second == legacy_digest(e));
    if (same) ++outcome.unchanged;
    return same;
  });
  // A group that is gone changes the period too (its summary).
  return !events.empty() || present < known.size();
}

void Pipeline::drop_journalled(std::vector<events::Event>& events, Day day, PullOutcome& outcome) {
  if (skip_.empty() || (skip_after_ && day <= *skip_after_)) return;
  // Acknowledged before a restart (same id: same amounts): settled already, not sent again.
  const std::size_t before = events.size();
  // An id of an earlier version (without the estimated flag) is the digest of the amounts.
  std::erase_if(events, [&](const events::Event& e) {
    return skip_.contains(day, state::id_digest(e.id)) || skip_.contains(day, e.amounts);
  });
  const std::size_t skipped = before - events.size();
  if (skipped == 0) return;
  outcome.journalled += skipped;
  metrics_.events_skipped("journalled").Increment(static_cast<double>(skipped));
  log::debug("events acknowledged before a restart are not sent again",
             {{"date", format_date(day)}, {"skipped", skipped}, {"to_send", events.size()}});
}

void Pipeline::start_delivery(const asio::any_io_executor& executor, std::shared_ptr<InFlight> page,
                              std::vector<events::Event> batch) {
  asio::co_spawn(
      executor,
      [this, page, batch = std::move(batch)]() mutable -> asio::awaitable<void> {
        // The sink reports settled events of this page as they come (journal_settled).
        struct Delivering {
          const InFlight*& slot;
          ~Delivering() { slot = nullptr; }
        } delivering{delivering_};
        delivering_ = page.get();
        page->result = co_await sink_.deliver(std::move(batch));
      },
      [this, page](const std::exception_ptr& e) {
        if (common::log_task_failure("delivery", e,
                                     [this] { metrics_.task_failures("delivery").Increment(); })) {
          page->error = common::describe(e);
        }
        page->done = true;
        page->signal.cancel();
      });
  in_flight_ = std::move(page);
}

state::SkipSet Pipeline::journalled_events() const {
  if (journal_ == nullptr) return {};
  try {
    // The journal as it is now: what earlier runs (or failed pulls) already settled.
    return state::SkipSet(journal_->read());
  } catch (const state::StateError& e) {
    // Without it, events acknowledged before are sent again (same ids): duplicates, no loss.
    log::error("cannot read the journal; its events will be sent again", {{"error", e.what()}});
    return {};
  }
}

void Pipeline::use_journal(state::AckJournal* journal, std::optional<Day> skip_after) {
  journal_ = journal;
  skip_after_ = skip_after;
  if (journal_ == nullptr) {
    sink_.on_settled({});
    return;
  }
  sink_.on_settled([this](std::size_t first, std::span<const events::Event> events) {
    journal_settled(first, events);
  });
}

void Pipeline::journal_settled(std::size_t first, std::span<const events::Event> events) {
  if (journal_ == nullptr || delivering_ == nullptr) return;
  const auto& ends = delivering_->day_ends;
  // The day of event `first`: the first run of the page that ends after it.
  auto day = std::upper_bound(ends.begin(), ends.end(), first,
                              [](std::size_t i, const auto& end) { return i < end.second; });
  acks_.clear();
  for (std::size_t i = 0; i < events.size() && day != ends.end(); ++i) {
    while (day != ends.end() && first + i >= day->second)
      ++day;
    if (day != ends.end() && journal_->wanted(day->first)) {
      acks_.add(day->first, state::id_digest(events[i].id));
    }
  }
  // One write per answer, before its worker sends anything else: a crash re-sends only what
  // was in flight (durable against a power loss after the next group commit).
  journal_->append(acks_);
}

asio::awaitable<void> Pipeline::settle_in_flight(state::State& state, PullOutcome& outcome) {
  if (!in_flight_) co_return;
  // The page stays in in_flight_ until it is done: when a shutdown cancels this wait (it throws),
  // pull() settles it after the fetch has ended, where cancellation no longer throws.
  while (!in_flight_->done)
    co_await in_flight_->signal.async_wait(common::nothrow);
  auto page = std::move(in_flight_);
  apply(*page, state, outcome);
}

void Pipeline::apply(InFlight& page, state::State& state, PullOutcome& outcome) {
  auto& r = page.result;
  if (!page.error.empty()) {
    // Whatever the sink did not report is not delivered.
    r.failed = page.events - std::min(page.events, r.delivered + r.dead_lettered);
    r.failed_at.clear();
  }
  outcome.result += r;
  // Failed events per day; a sink that does not say which failed fails the whole page.
  std::map<Day, std::size_t> failed;
  if (r.failed != 0) {
    if (r.failed_at.size() == r.failed) {
      for (std::size_t index : r.failed_at) {
        auto it = std::upper_bound(page.day_ends.begin(), page.day_ends.end(), index,
                                   [](std::size_t i, const auto& end) { return i < end.second; });
        if (it != page.day_ends.end()) ++failed[it->first];
      }
    } else {
      std::size_t begin = 0;
      for (const auto& [day, end] : page.day_ends) {
        failed[day] += end - begin;
        begin = end;
      }
    }
  }
  std::size_t begin = 0;
  for (const auto& [day, end] : page.day_ends) {
    if (auto it = failed.find(day); it != failed.end() && !outcome.failed_periods.contains(day)) {
      outcome.failed_periods.insert(day);
      log::warn("events of a billing period not delivered",
                {{"date", format_date(day)}, {"events", end - begin}, {"failed", it->second}});
    }
    begin = end;
  }
  record_settled(page, state, [&](Day day) {
    return !failed.contains(day) && !outcome.failed_periods.contains(day);
  });
}

void Pipeline::record_settled(InFlight& page, state::State& state,
                              const std::function<bool(Day)>& settled) {
  for (auto& period : page.digests) {
    if (!settled(period.day)) continue;
    auto& known = state.digests[period.day];
    for (auto& [key, id] : period.groups)
      known[key] = std::move(id);
    if (period.followed == true) state.estimated.insert(period.day);
    if (period.followed == false) state.estimated.erase(period.day);
  }
  for (auto& [day, id] : page.summaries) {
    if (settled(day)) state.summaries[day] = std::move(id);
  }
}

asio::awaitable<void> Pipeline::send_summaries(state::State& state, PullOutcome& outcome) {
  const auto executor = co_await asio::this_coro::executor;
  auto page = std::make_shared<InFlight>(executor);
  auto batch = summary_events(state, outcome, *page);
  page->events = batch.size();
  if (batch.empty()) {
    page->done = true;
    // Journalled summaries (delivered before a restart) are recorded all the same.
    if (!page->summaries.empty()) in_flight_ = std::move(page);
  } else {
    start_delivery(executor, std::move(page), std::move(batch));
  }
  co_await settle_in_flight(state, outcome);
}

std::vector<events::Event> Pipeline::summary_events(const state::State& state, PullOutcome& outcome,
                                                    InFlight& page) {
  std::vector<events::Event> batch;
  for (auto& [day, tally] : tallies_) {
    // A period with an event not settled gets its summary once they all are (a later pull).
    if (outcome.failed_periods.contains(day)) continue;
    if (tally.tally.bad_amounts() != 0) {
      log::warn("amounts that are not decimal numbers are left out of a summary's totals",
                {{"date", format_date(day)}, {"amounts", tally.tally.bad_amounts()}});
    }
    auto summary =
        events::make_summary(day, tally.tally, config_.group_by, config_.granularity, now_());
    const auto recorded = state.summaries.find(day);
    const bool send = recorded != state.summaries.end() ? recorded->second != summary.id
                                                        : tally.fresh || tally.changed;
    if (!send) continue;
    page.summaries.emplace_back(day, summary.id);
    std::vector<events::Event> one;
    one.push_back(std::move(summary));
    drop_journalled(one, day, outcome);
    if (one.empty()) continue;
    batch.push_back(std::move(one.front()));
    page.day_ends.emplace_back(day, batch.size());
  }
  return batch;
}

void Pipeline::update_cost_gauge(const common::CostPeriod& period) {
  for (const auto& group : period.groups) {
    if (!group.account_name.empty() && account_index_ && *account_index_ < group.keys.size()) {
      metrics_.set_account_name(group.keys[*account_index_], group.account_name);
    }
  }
  // The gauge shows the latest billing period of the pull; older ones are dropped as they pass.
  if (config_.cost_gauge_series == 0 || (gauge_day_ && period.start < *gauge_day_)) return;
  // A newer day, or the same day pulled again, replaces the samples.
  if (!gauge_day_ || period.start > *gauge_day_ || !gauge_touched_) {
    gauge_day_ = period.start;
    gauge_samples_.clear();
    gauge_dropped_ = 0;
    gauge_touched_ = true;
  }
  for (const auto& group : period.groups) {
    for (const auto& m : group.metrics) {
      // A gauge needs a number; the events keep the exact string.
      gauge_samples_.push_back(
          {group.keys, m.name, m.unit, std::strtod(m.amount.c_str(), nullptr)});
    }
  }
  // Trimmed as pages arrive, not only at the end, so a day of many pages does not hold a sample
  // of every group until the pull ends (the largest N of the parts are the largest N of all).
  const std::size_t bound = std::max<std::size_t>(std::size_t{2} * config_.cost_gauge_series, 4096);
  if (gauge_samples_.size() > bound) {
    gauge_dropped_ += metrics::keep_largest_costs(gauge_samples_, config_.cost_gauge_series);
  }
}

std::optional<Day> advance_checkpoint(std::optional<Day> checkpoint,
                                      const std::optional<schedule::DayRange>& fresh,
                                      const PullOutcome& outcome, config::Granularity granularity) {
  if (!fresh || !outcome.fetched) return checkpoint;
  std::optional<Day> result = checkpoint;
  Day start = fresh->first;
  while (start <= fresh->last) {
    Day next = start + std::chrono::days{1};
    if (granularity == config::Granularity::monthly) {
      const std::chrono::year_month_day ymd{start};
      // A month moves the checkpoint only when pulled whole: to its last day, never inside it.
      if (ymd.day() != std::chrono::day{1}) break;
      next = Day{(ymd.year() / ymd.month() + std::chrono::months{1}) / std::chrono::day{1}};
      if (next - std::chrono::days{1} > fresh->last) break;
    }
    if (outcome.failed_periods.contains(start)) break;
    const Day unit_last = next - std::chrono::days{1};
    if (!result || unit_last > *result) result = unit_last;
    start = next;
  }
  return result;
}

}  // namespace sab::app
