#pragma once

// One pull: Cost Explorer pages in, events out, the outcome per billing day. The Cost Explorer
// client and the sink are passed in, so tests can drive it with fakes or real peers alike.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/cost.hpp"
#include "config/config.hpp"
#include "delivery/sink.hpp"
#include "events/summary.hpp"
#include "metrics/metrics.hpp"
#include "schedule/schedule.hpp"
#include "state/journal.hpp"
#include "state/state.hpp"

namespace sab::app {

using Day = std::chrono::sys_days;
using PageHandler = std::function<boost::asio::awaitable<void>(std::vector<common::CostPeriod>&&)>;
// Fetches every page of [first, end) and hands each to the handler; throws on failure.
using FetchFn = std::function<boost::asio::awaitable<void>(Day first, Day end, PageHandler)>;
using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct PullRequest {
  schedule::DayRange period;                  // one GetCostAndUsage period (plus pages)
  std::optional<schedule::DayRange> restate;  // delivered days: emit only changed groups
  std::optional<Day> digest_from;             // keep digests of delivered days from here on
  // Following estimates: delivered periods AWS still marked Estimated, re-pulled now (changed
  // groups go out again, every group once the period turned final).
  std::set<Day> follow = {};
  // Fresh periods still estimated from here on are recorded to be followed (none: following off).
  std::optional<Day> follow_from = {};
  // Periods up to here were delivered: those neither restated nor followed are in a request
  // period only to keep it one request, and are ignored.
  std::optional<Day> delivered_until = {};
  // A second request period, fetched before `period` (followed periods that are not contiguous
  // with it, e.g. after an outage longer than catch_up_days).
  std::optional<schedule::DayRange> extra = {};
};

struct PullOutcome {
  bool fetched = false;    // every page arrived
  std::string error;       // why not
  bool cancelled = false;  // a shutdown ended the fetch (not a failure of AWS or the target)
  delivery::DeliveryResult result;
  std::size_t unchanged = 0;     // restated groups whose amounts did not change
  std::set<Day> failed_periods;  // period starts with an event not settled
  std::set<Day> seen_periods;    // period starts present in the answer
  bool state_saved = true;       // the checkpoint that moved is on disk (set by the caller)

  // The one success rule of a pull, for the service and --once alike: every page arrived, every
  // event was settled (delivered or dead-lettered) and the state that moved was saved. --once
  // adds its own: a dead letter fails the run, since someone is watching it.
  bool succeeded() const { return fetched && result.settled() && state_saved; }
  std::size_t journalled = 0;  // events not sent: acknowledged before a restart (the journal)
};

class Pipeline {
 public:
  Pipeline(const config::Config& config, FetchFn fetch, delivery::EventSink& sink,
           metrics::Metrics& metrics, WallClock now);

  // Pulls and delivers; updates the restatement digests in `state` for what was settled.
  // Never throws for a fetch or delivery failure: the outcome says what happened. Cancelling the
  // awaiting coroutine ends the fetch (outcome.cancelled); the page in flight is still settled.
  boost::asio::awaitable<PullOutcome> pull(const PullRequest& request, state::State& state);

  // The journal of acknowledgements (none: dry runs, tests): each pull skips the events it
  // holds (of periods after `skip_after` only, when set: --once re-sends delivered days whole),
  // and every event the sink settles is appended to it as its answer arrives.
  void use_journal(state::AckJournal* journal, std::optional<Day> skip_after = std::nullopt);

 private:
  struct InFlight;
  struct PeriodDigests;
  enum class Role { fresh, restated, followed, ignored };
  Role role_of(const PullRequest& request, Day day) const;
  boost::asio::awaitable<void> fetch_period(const schedule::DayRange& period,
                                            const PullRequest& request, state::State& state,
                                            PullOutcome& outcome);
  boost::asio::awaitable<void> on_page(std::vector<common::CostPeriod>&& periods,
                                       const PullRequest& request, state::State& state,
                                       PullOutcome& outcome);
  // The steps of a page: its events (filtered), then their delivery.
  std::vector<events::Event> page_events(const std::vector<common::CostPeriod>& periods,
                                         const PullRequest& request, const state::State& state,
                                         PullOutcome& outcome, InFlight& page);
  std::vector<events::Event> period_events(const common::CostPeriod& period, Role role,
                                           const PullRequest& request, const state::State& state,
                                           PullOutcome& outcome, InFlight& page);
  // Restated or followed: drops the events the sink holds already (same id: same amounts, same
  // estimated flag). True when the period changed.
  // Per event: whether the sink holds it under an earlier version's id (a version-1 digest that
  // matches its amounts). Empty when `known` holds no such digest.
  static std::vector<bool> held_as_before(const std::vector<events::Event>& events,
                                          const std::map<std::string, std::string>& known);
  bool drop_unchanged(std::vector<events::Event>& events, const common::CostPeriod& period,
                      const state::State& state, PullOutcome& outcome) const;
  void start_delivery(const boost::asio::any_io_executor& executor, std::shared_ptr<InFlight> page,
                      std::vector<events::Event> batch);
  // Once every page settled: the summary event of each period whose summary is new or changed,
  // delivered as one last page.
  boost::asio::awaitable<void> send_summaries(state::State& state, PullOutcome& outcome);
  std::vector<events::Event> summary_events(const state::State& state, PullOutcome& outcome,
                                            InFlight& page);
  state::SkipSet journalled_events() const;
  // Drops the events the journal holds; counts them.
  void drop_journalled(std::vector<events::Event>& events, Day day, PullOutcome& outcome);
  // The sink settled events [first, first + events.size()) of the page being delivered.
  void journal_settled(std::size_t first, std::span<const events::Event> events);
  // Waits for the page in flight, if any, and settles it into `outcome` and the digests.
  boost::asio::awaitable<void> settle_in_flight(state::State& state, PullOutcome& outcome);
  void apply(InFlight& page, state::State& state, PullOutcome& outcome);
  // The digests, followed periods and summary ids of the page's settled periods into `state`.
  static void record_settled(InFlight& page, state::State& state,
                             const std::function<bool(Day)>& settled);
  void update_cost_gauge(const common::CostPeriod& period);

  const config::Config& config_;
  FetchFn fetch_;
  delivery::EventSink& sink_;
  metrics::Metrics& metrics_;
  WallClock now_;
  std::vector<std::string> cost_labels_;
  std::optional<std::size_t> account_index_;  // of LINKED_ACCOUNT in group_by
  std::optional<Day> gauge_day_;
  bool gauge_touched_ = false;  // this pull brought samples of gauge_day_
  std::vector<metrics::Metrics::CostSample> gauge_samples_;
  std::size_t gauge_dropped_ = 0;  // samples of gauge_day_ already trimmed away
  std::shared_ptr<InFlight> in_flight_;
  state::AckJournal* journal_ = nullptr;
  std::optional<Day> skip_after_;
  state::SkipSet skip_;                   // this pull's: the journal as it was when the pull began
  const InFlight* delivering_ = nullptr;  // the page whose deliver() call is running
  state::RecordBuilder acks_;             // reused for every answer
  // events.summary: per period of the pull, what its summary needs, and whether it changed.
  struct Tally {
    events::PeriodTally tally;
    bool fresh = false;
    bool changed = false;
  };
  std::map<Day, Tally> tallies_;
};

// Pure: the checkpoint after a pull of `fresh` days. It moves to the end of the longest run of
// settled periods from the start of `fresh` (a day, or a whole month for MONTHLY: only ever to a
// month's last day), never backwards, and not at all when the fetch failed.
std::optional<Day> advance_checkpoint(std::optional<Day> checkpoint,
                                      const std::optional<schedule::DayRange>& fresh,
                                      const PullOutcome& outcome, config::Granularity granularity);

}  // namespace sab::app
