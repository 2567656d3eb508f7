#pragma once

// The parts one run of the process wires together: one io_context, the Cost Explorer client with
// its credentials, the sink (target or --dry-run stdout), the pipeline and the state.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "app/cli.hpp"
#include "app/insights.hpp"
#include "app/pipeline.hpp"
#include "aws/ce_client.hpp"
#include "aws/credentials.hpp"
#include "common/task_group.hpp"
#include "config/config.hpp"
#include "delivery/sink.hpp"
#include "metrics/metrics.hpp"
#include "state/journal.hpp"
#include "state/state.hpp"

namespace sab::app {

class Runtime {
 public:
  // Throws std::exception with a message fit for the log when a part cannot be built.
  Runtime(const config::Config& config, const Options& options);
  ~Runtime();

  boost::asio::io_context& io() { return io_; }
  metrics::Metrics& metrics() { return metrics_; }
  aws::CredentialProvider& credentials() { return *credentials_; }
  delivery::EventSink& sink() { return *sink_; }
  Pipeline& pipeline() { return *pipeline_; }
  // The daily forecast and anomaly checks (the service runs them after its pulls).
  Insights& insights() { return *insights_; }
  const config::Config& config() const { return config_; }
  WallClock clock() const { return clock_; }

  // One pull of `plan`, then the checkpoint and digests saved when they moved (`persist`; a dry
  // run never writes). Logs and counts the outcome. Returns the outcome; `state` holds what is on
  // disk afterwards (without `persist`: the state as it would be).
  boost::asio::awaitable<PullOutcome> pull_and_checkpoint(const schedule::PullPlan& plan,
                                                          state::State& state, bool persist);

  // The oldest day whose digests are kept (restatement window), or none without restatement.
  std::optional<Day> digest_from(schedule::Instant now) const;
  // The oldest period whose acknowledgements the journal keeps past the checkpoint (restated or
  // followed periods may send events again).
  std::optional<Day> journal_from(schedule::Instant now) const;
  // A request of `days` emitted whole, with this config's restatement and follow windows.
  PullRequest request_for(const schedule::DayRange& days, schedule::Instant now) const;
  // The request of a scheduled pull (plan.period() is set); logs what it pulls.
  PullRequest request_of(const schedule::PullPlan& plan, const state::State& state,
                         schedule::Instant now) const;

  // The run's long-lived coroutines (the scheduler, or the --once pull): a shutdown cancels them
  // together and waits for them (common::TaskGroup).
  common::TaskGroup& tasks() { return tasks_; }

  // The journal of acknowledgements (app/journal.cpp), opened once the state is held (its lock):
  // the pipeline skips the events it holds and appends those the sink settles. `once`: only
  // periods after the checkpoint are skipped (--once re-sends delivered days whole). Never for a
  // dry run. Never fails the run: a journal that cannot be used is logged, and only what a crash
  // would re-send grows. SAB_JOURNAL=off leaves it out (the benchmarks' baseline only).
  void open_journal(const state::State& state, bool once);
  // state.json was saved: the journal keeps only the periods after its checkpoint.
  void state_saved(const state::State& state);

  // Runs `task` (a Cost Explorer fetch, a credential load) as a child of the awaiting coroutine,
  // bound to its cancellation: cancelling the group ends whatever the child awaits at once (a
  // request, a retry wait, an STS call); it then throws operation_aborted. The child throws once
  // cancelled even where the parent chose throw_if_cancelled(false) to finish its own work.
  template <class T>
  boost::asio::awaitable<T> cancellable(boost::asio::awaitable<T> task);
  // Shutdown: cancels the pull in progress (and every task of the group). Deliveries are not
  // cancelled (they have shutdown_timeout, then sink().stop()).
  void cancel_pull() { tasks_.emit(boost::asio::cancellation_type::terminal); }

  // Runs when the run cannot go on (a dry run's stdout was closed); set by the mode's shell.
  std::function<void()> on_fatal;
  // A dry run's stdout was closed: the run ends with exit 1.
  bool output_closed() const { return output_closed_; }

 private:
  bool output_closed_ = false;
  config::Config config_;
  WallClock clock_;
  boost::asio::io_context io_{1};
  common::TaskGroup tasks_{io_.get_executor()};
  metrics::Metrics metrics_;
  std::shared_ptr<aws::CredentialProvider> credentials_;
  std::unique_ptr<aws::CostExplorerClient> ce_;
  std::unique_ptr<delivery::EventSink> sink_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<state::AckJournal> journal_;
  std::unique_ptr<Insights> insights_;
};

template <class T>
boost::asio::awaitable<T> Runtime::cancellable(boost::asio::awaitable<T> task) {
  // use_awaitable carries the awaiting coroutine's cancellation slot into co_spawn.
  const auto token = boost::asio::use_awaitable;
  if constexpr (std::is_void_v<T>) {
    co_await boost::asio::co_spawn(io_, std::move(task), token);
  } else {
    co_return co_await boost::asio::co_spawn(io_, std::move(task), token);
  }
}

// Builds the runtime; when a part cannot be built, logs why and returns null.
std::unique_ptr<Runtime> make_runtime(const config::Config& config, const Options& options);

// SAB_FAKE_NOW=2024-01-15T02:00:00Z pins the wall clock (for tests of days and schedules only).
WallClock make_clock(const config::Env& env);

}  // namespace sab::app
