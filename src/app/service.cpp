#include "app/service.hpp"

#include <date/date.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <tuple>

#include "app/runtime.hpp"
#include "common/log.hpp"
#include "common/tasks.hpp"
#include "common/version.hpp"
#include "net/http_server.hpp"

namespace sab::app {
namespace asio = boost::asio;

namespace {

// True once the running coroutine's group was cancelled (a shutdown).
asio::awaitable<bool> cancelled() {
  const auto cs = co_await asio::this_coro::cancellation_state;
  co_return cs.cancelled() != asio::cancellation_type::none;
}

// The daily timer coroutine and its state: pulls at start when days are missing, then at every
// firing, with a backoff retry after a failed pull. Runs in the runtime's task group: cancelling
// the group ends the wait for the next firing and the pull in progress (its request, retry wait
// or credential refresh) at once; deliveries in flight go on until sink().stop().
class Scheduler {
 public:
  Scheduler(Runtime& runtime, state::State state, std::string& not_ready, bool persist)
      : runtime_(runtime),
        state_(std::move(state)),
        not_ready_(not_ready),
        persist_(persist),
        timer_(runtime.io()) {}

  asio::awaitable<void> run() {
    // A cancellation is read from the state below, so the loop can end in order.
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await check_credentials();
    bool first = true;
    while (!co_await cancelled()) {
      const auto now = std::chrono::time_point_cast<std::chrono::seconds>(runtime_.clock()());
      const auto plan =
          schedule::plan_pull(now, state_.checkpoint, runtime_.config(), state_.estimated);
      // At start only missing days are pulled at once (no billed request otherwise); a firing or
      // a retry pulls the whole plan, restatement included.
      const bool due = first ? plan.fresh.has_value() : plan.period().has_value();
      first = false;
      bool failed = false;
      if (due) {
        pulling_ = true;
        const auto outcome = co_await runtime_.pull_and_checkpoint(plan, state_, persist_);
        pulling_ = false;
        if (outcome.cancelled) break;  // shutting down: /readyz keeps saying so
        failed = !outcome.succeeded();
        record(outcome, failed);
        // The day's forecast and anomalies, after the pull: never beside its deliveries.
        co_await runtime_.insights().run(persist_);
      }
      if (co_await cancelled()) break;
      co_await wait_next(failed);
    }
  }

  bool pulling() const { return pulling_; }

 private:
  asio::awaitable<void> check_credentials() {
    // Loading credentials bills nothing (no Cost Explorer request); it proves the chain works.
    std::string error;
    try {
      (void)co_await runtime_.cancellable(runtime_.credentials().get());
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error.empty()) {
      not_ready_.clear();
      runtime_.metrics().ready().Set(1);
    } else if (!co_await cancelled()) {
      not_ready_ = "credentials: " + log::redact(error);
      log::error("cannot load AWS credentials; the pull will try again", {{"error", error}});
    }
  }

  // The outcome on /readyz: a target that needs fixing says so (e.g. it redirects with a 302),
  // else the error.
  void record(const PullOutcome& outcome, bool failed) {
    if (failed) {
      ++failures_;
      const std::string& why =
          !outcome.result.target_problem.empty() ? outcome.result.target_problem : outcome.error;
      not_ready_ = "last pull failed: " +
                   (why.empty() ? std::string("events not delivered") : log::redact(why));
    } else {
      failures_ = 0;
      not_ready_.clear();
    }
    runtime_.metrics().ready().Set(not_ready_.empty() ? 1 : 0);
  }

  // Until the next firing, or the backoff retry after a failed pull when that comes first.
  asio::awaitable<void> wait_next(bool failed) {
    const auto& config = runtime_.config();
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(runtime_.clock()());
    auto wake = schedule::next_fire(at, config.pull_hour, config.pull_zone);
    if (failed) wake = std::min(wake, at + schedule::retry_delay(failures_));
    log::info(failed ? "retry scheduled" : "next pull scheduled",
              {{"at", date::format("%FT%TZ", wake)}});
    timer_.expires_after(wake - at);
    co_await timer_.async_wait(common::nothrow);
  }

  Runtime& runtime_;
  state::State state_;
  std::string& not_ready_;
  bool persist_;
  asio::steady_timer timer_;
  int failures_ = 0;
  bool pulling_ = false;
};

}  // namespace

int run_service(const config::Config& config, const Options& options) {
  auto runtime = make_runtime(config, options);
  if (!runtime) return 1;
  auto& io = runtime->io();
  auto& metrics = runtime->metrics();
  // First, so a signal that arrives during start-up is handled, not fatal.
  asio::signal_set signals(io, SIGTERM, SIGINT);

  // One process per state: a second puller would double every event.
  // A dry run reads the state to choose the days a real service would send, but never locks,
  // writes or moves it: a dry run next to a running service changes nothing the service uses.
  std::optional<state::DirLock> lock;
  state::State state;
  try {
    if (!options.dry_run) lock.emplace(config.state_dir);
    if (auto loaded = state::load(config.state_dir)) state = *loaded;
  } catch (const state::StateError& e) {
    log::error("cannot use the state", {{"error", e.what()}});
    return 1;
  }
  if (lock) runtime->open_journal(state, false);
  if (state.checkpoint) {
    metrics.checkpoint().Set(static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(state.checkpoint->time_since_epoch())
            .count()));
  }

  std::string not_ready = "starting";
  net::HttpServer server(
      io, net::ServerOptions{.host = config.listen.host, .port = config.listen.port},
      net::ServerHandlers{
          .metrics_text = [&metrics] { return metrics.serialize(); },
          .not_ready_reason = [&not_ready] { return not_ready; },
          .count = [&metrics](std::string_view path) { metrics.http_requests(path).Increment(); },
          .task_failed = [&metrics] { metrics.task_failures("http_server").Increment(); },
          .warnings = [&runtime] { return runtime->insights().warnings(); }});
  try {
    server.start();
  } catch (const std::system_error& e) {
    log::error("cannot start the HTTP server", {{"error", e.what()}});
    return 1;
  }
  const auto endpoint = server.local_endpoint();
  log::info("listening", {{"address", endpoint.address().to_string()},
                          {"port", static_cast<std::int64_t>(endpoint.port())}});

  Scheduler scheduler(*runtime, std::move(state), not_ready, !options.dry_run);
  auto& tasks = runtime->tasks();
  int exit_code = 0;
  tasks.spawn("scheduler", scheduler.run(), [&metrics, &exit_code] {
    metrics.task_failures("scheduler").Increment();
    exit_code = 1;  // the service cannot go on without it: let the supervisor restart it
  });
  bool shutting_down = false;

  // Shutdown, graceful then forced: cancelling the task group ends the pull in progress at once
  // while deliveries in flight get shutdown_timeout; then retries stop and the pull ends with
  // what was acknowledged (the state is saved); past delivery.timeout more, the process stops
  // regardless.
  auto shutdown = [&](std::string_view why) -> asio::awaitable<void> {
    log::info("shutting down", {{"reason", why}, {"pull_in_flight", scheduler.pulling()}});
    not_ready = "shutting down";
    metrics.ready().Set(0);
    runtime->cancel_pull();
    if (co_await tasks.join(config.shutdown_timeout)) co_return;
    log::warn("shutdown timeout passed: stopping deliveries in flight");
    runtime->sink().stop();
    if (co_await tasks.join(config.delivery.timeout + std::chrono::seconds(1))) co_return;
    log::error("work still running after the shutdown timeout; exiting without it");
    io.stop();
  };
  auto spawn_shutdown = [&](std::string_view why) {
    if (shutting_down) return;
    shutting_down = true;
    asio::co_spawn(io, shutdown(why), [&](const std::exception_ptr& e) {
      common::log_task_failure("shutdown", e,
                               [&] { metrics.task_failures("shutdown").Increment(); });
    });
  };
  runtime->on_fatal = [&] {
    if (exit_code != 0) return;
    exit_code = 1;
    spawn_shutdown("stdout closed");
  };

  // The supervisor: once the scheduler ends (a shutdown, or a failure counted by the group), the
  // server and the signal wait go with it and io.run() returns.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await tasks.join();
        server.stop();
        signals.cancel();
      },
      [&](const std::exception_ptr& e) {
        common::log_task_failure("supervisor", e,
                                 [&] { metrics.task_failures("supervisor").Increment(); });
      });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [ec, signal] = co_await signals.async_wait(common::nothrow);
        if (ec) co_return;
        spawn_shutdown(signal == SIGTERM ? "SIGTERM" : "SIGINT");
      },
      [&](const std::exception_ptr& e) {
        common::log_task_failure("signals", e,
                                 [&] { metrics.task_failures("signals").Increment(); });
      });

  log::info("started", {{"version", common::kVersion}, {"commit", common::kCommit}});
  io.run();
  log::info("stopped", {{"exit_code", exit_code}});
  return exit_code;
}

}  // namespace sab::app
