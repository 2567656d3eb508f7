#include "app/once.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "app/runtime.hpp"
#include "common/log.hpp"

namespace sab::app {
namespace asio = boost::asio;

namespace {

// The state is only touched when no service holds it and this is not a dry run. Returns false
// when the state is there but cannot be used (logged).
bool take_state(const config::Config& config, const Options& options,
                std::optional<state::DirLock>& lock, state::State& state) {
  if (options.dry_run) return true;
  try {
    lock = state::DirLock::try_acquire(config.state_dir);
    if (!lock) {
      log::warn("a service holds state_dir; the checkpoint is left to it",
                {{"state_dir", config.state_dir}});
    } else if (auto loaded = state::load(config.state_dir)) {
      state = *loaded;
    }
  } catch (const state::StateError& e) {
    log::error("cannot use the state", {{"error", e.what()}});
    return false;
  }
  return true;
}

std::int64_t journal_count(const prometheus::Counter& counter) {
  return static_cast<std::int64_t>(counter.Value());
}

}  // namespace

int run_once(const config::Config& config, const Options& options) {
  auto runtime = make_runtime(config, options);
  if (!runtime) return 1;
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(runtime->clock()());
  const auto first = options.date ? options.date : options.from;
  const auto last = options.date ? options.date : options.to;
  const auto selected = schedule::once_days(now, first, last, config.granularity);
  if (!selected.days) {
    std::cerr << "source-aws-billing: " << selected.error << "\n";
    return 2;
  }
  const schedule::DayRange days = *selected.days;

  std::optional<state::DirLock> lock;
  state::State state;
  if (!take_state(config, options, lock, state)) return 1;
  if (lock) runtime->open_journal(state, true);

  // The checkpoint moves only when the selected days include the service's next day: from there
  // to the last settled day. Everything selected is emitted whole (no restatement filter).
  // Without a checkpoint the service would start with the last complete day (or month).
  const Day next_day =
      state.checkpoint
          ? *state.checkpoint + std::chrono::days{1}
          : schedule::once_days(now, std::nullopt, std::nullopt, config.granularity).days->first;
  std::optional<schedule::DayRange> next_days;
  if (lock && days.first <= next_day && next_day <= days.last) {
    next_days = schedule::DayRange{next_day, days.last};
  }

  asio::signal_set signals(runtime->io(), SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::warn("interrupted: stopping the pull and delivery");
    runtime->cancel_pull();  // the task below
    runtime->sink().stop();
  });

  PullOutcome outcome;
  auto run = [&]() -> asio::awaitable<void> {
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(runtime->clock()());
    const state::State before = state;
    outcome = co_await runtime->pipeline().pull(runtime->request_for(days, at), state);
    if (lock) {
      state.checkpoint =
          advance_checkpoint(before.checkpoint, next_days, outcome, config.granularity);
      if (!(state == before)) {
        try {
          state::save(config.state_dir, state);
          runtime->state_saved(state);
        } catch (const state::StateError& e) {
          // The checkpoint on disk did not move: the days stay pending, and the exit code says so.
          outcome.state_saved = false;
          state = before;
          log::error("state not saved", {{"error", e.what()}});
        }
      }
    }
    signals.cancel();
  };
  bool run_failed = false;
  runtime->tasks().spawn("once", run(), [&] { run_failed = true; });
  runtime->io().run();
  if (run_failed) return 1;  // logged by the task group
  // A dead letter fails --once (someone is watching the run); the service moves on instead.
  const bool ok = outcome.succeeded() && outcome.result.dead_lettered == 0;
  if (!outcome.fetched) {
    log::error("pull failed", {{"error", outcome.error}});
  }
  log::info("done", {{"from", format_date(days.first)},
                     {"to", format_date(days.last)},
                     {"delivered", outcome.result.delivered},
                     {"dead_lettered", outcome.result.dead_lettered},
                     {"failed", outcome.result.failed},
                     {"journalled", outcome.journalled},
                     {"journal_records", journal_count(runtime->metrics().journal_records())},
                     {"journal_fsyncs", journal_count(runtime->metrics().journal_fsyncs())},
                     {"state_saved", outcome.state_saved},
                     {"checkpoint", state.checkpoint ? format_date(*state.checkpoint) : ""}});
  return ok ? 0 : 1;
}

}  // namespace sab::app
