#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "app/cli.hpp"
#include "app/pipeline.hpp"
#include "aws/ce_client.hpp"
#include "aws/credentials.hpp"
#include "config/config.hpp"
#include "delivery/sink.hpp"
#include "metrics/metrics.hpp"
#include "state/journal.hpp"
#include "state/state.hpp"

// The parts one run of the process wires together: one io_context, the Cost Explorer client with
// its credentials, the sink (target or --dry-run stdout), the pipeline and the state.
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
  const config::Config& config() const { return config_; }
  WallClock clock() const { return clock_; }

  // One pull of `plan`, then the checkpoint and digests saved when they moved (`persist`; a dry
  // run never writes). Logs and counts the outcome. Returns the outcome; `state` holds what is on
  // disk afterwards (without `persist`: the state as it would be).
  boost::asio::awaitable<PullOutcome> pull_and_checkpoint(const schedule::PullPlan& plan,
                                                          state::State& state, bool persist);

  // The oldest day whose digests are kept (restatement window), or none without restatement.
  std::optional<Day> digest_from(schedule::Instant now) const;

  // The journal of acknowledgements (app/journal.cpp), opened once the state is held (its lock):
  // the pipeline skips the events it holds and appends those the sink settles. `once`: only
  // periods after the checkpoint are skipped (--once re-sends delivered days whole). Never for a
  // dry run. Never fails the run: a journal that cannot be used is logged, and only what a crash
  // would re-send grows. SAB_JOURNAL=off leaves it out (the benchmarks' baseline only).
  void open_journal(const state::State& state, bool once);
  // state.json was saved: the journal keeps only the periods after its checkpoint.
  void state_saved(const state::State& state);

  // Runs `task` (a Cost Explorer fetch, a credential load) as a child bound to the pull's
  // cancellation: cancel_pull() ends whatever it awaits at once (a request, a retry wait, an STS
  // call) through Asio's per-operation cancellation; it then throws operation_aborted.
  template <class T>
  boost::asio::awaitable<T> cancellable(boost::asio::awaitable<T> task);
  // Shutdown: ends the cancellable task in progress. Deliveries are not cancelled (they have
  // shutdown_timeout, then sink().stop()).
  void cancel_pull() { pull_cancel_.emit(boost::asio::cancellation_type::terminal); }

  // Runs when the run cannot go on (a dry run's stdout was closed); set by the mode's shell.
  std::function<void()> on_fatal;
  // A dry run's stdout was closed: the run ends with exit 1.
  bool output_closed() const { return output_closed_; }

 private:
  boost::asio::cancellation_signal pull_cancel_;
  bool output_closed_ = false;
  config::Config config_;
  WallClock clock_;
  boost::asio::io_context io_{1};
  metrics::Metrics metrics_;
  std::shared_ptr<aws::CredentialProvider> credentials_;
  std::unique_ptr<aws::CostExplorerClient> ce_;
  std::unique_ptr<delivery::EventSink> sink_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<state::AckJournal> journal_;
};

template <class T>
boost::asio::awaitable<T> Runtime::cancellable(boost::asio::awaitable<T> task) {
  auto token = boost::asio::bind_cancellation_slot(pull_cancel_.slot(), boost::asio::use_awaitable);
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
