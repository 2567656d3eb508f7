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

// The daily timer coroutine and its state: pulls at start when days are missing, then at every
// firing, with a backoff retry after a failed pull.
class Scheduler {
 public:
  Scheduler(Runtime& runtime, state::State state, std::string& not_ready, bool persist)
      : runtime_(runtime),
        state_(std::move(state)),
        not_ready_(not_ready),
        persist_(persist),
        timer_(runtime.io()) {}

  // NOLINTNEXTLINE(readability-function-cognitive-complexity): to be split into steps
  asio::awaitable<void> run() {
    const auto& config = runtime_.config();
    co_await check_credentials();
    bool first = true;
    int failures = 0;
    while (!stopping_) {
      const auto now = std::chrono::time_point_cast<std::chrono::seconds>(runtime_.clock()());
      const auto plan = schedule::plan_pull(now, state_.checkpoint, config);
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
        failed = !(outcome.fetched && outcome.result.failed == 0 && outcome.error.empty());
        if (failed) {
          ++failures;
          // A target that needs fixing says so (e.g. it redirects with a 302), else the error.
          const std::string& why = !outcome.result.target_problem.empty()
                                       ? outcome.result.target_problem
                                       : outcome.error;
          not_ready_ = "last pull failed: " +
                       (why.empty() ? std::string("events not delivered") : log::redact(why));
        } else {
          failures = 0;
          not_ready_.clear();
        }
        runtime_.metrics().ready().Set(not_ready_.empty() ? 1 : 0);
      }
      if (stopping_) break;

      const auto at = std::chrono::time_point_cast<std::chrono::seconds>(runtime_.clock()());
      auto wake = schedule::next_fire(at, config.pull_hour, config.pull_zone);
      if (failed) wake = std::min(wake, at + schedule::retry_delay(failures));
      log::info(failed ? "retry scheduled" : "next pull scheduled",
                {{"at", date::format("%FT%TZ", wake)}});
      timer_.expires_after(wake - at);
      co_await timer_.async_wait(common::nothrow);
    }
  }

  // Ends the wait for the next firing and cancels a pull in progress at once (its request,
  // retry wait or credential refresh); deliveries in flight go on until sink().stop().
  void stop() {
    stopping_ = true;
    timer_.cancel();
    runtime_.cancel_pull();
  }
  bool pulling() const { return pulling_; }

 private:
  asio::awaitable<void> check_credentials() {
    // Loading credentials bills nothing (no Cost Explorer request); it proves the chain works.
    try {
      (void)co_await runtime_.cancellable(runtime_.credentials().get());
      not_ready_.clear();
      runtime_.metrics().ready().Set(1);
    } catch (const std::exception& e) {
      if (stopping_) co_return;
      not_ready_ = std::string("credentials: ") + log::redact(e.what());
      log::error("cannot load AWS credentials; the pull will try again", {{"error", e.what()}});
    }
  }

  Runtime& runtime_;
  state::State state_;
  std::string& not_ready_;
  bool persist_;
  asio::steady_timer timer_;
  bool stopping_ = false;
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
          .task_failed = [&metrics] { metrics.task_failures("http_server").Increment(); }});
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
  asio::steady_timer shutdown_deadline(io);
  bool done = false;
  int exit_code = 0;
  asio::co_spawn(io, scheduler.run(), [&](const std::exception_ptr& e) {
    common::log_task_failure("scheduler", e,
                             [&] { metrics.task_failures("scheduler").Increment(); });
    // The loop ends only on shutdown (or a failure, counted above): the rest goes with it.
    done = true;
    shutdown_deadline.cancel();
    server.stop();
    signals.cancel();
  });

  // Shutdown: the pull in progress is cancelled at once; deliveries in flight get
  // shutdown_timeout, then retries stop and the pull ends with what was acknowledged (the state is
  // saved); past delivery.timeout more, the process stops regardless.
  auto shut_down = [&](std::string_view why) {
    log::info("shutting down", {{"reason", why}, {"pull_in_flight", scheduler.pulling()}});
    not_ready = "shutting down";
    metrics.ready().Set(0);
    scheduler.stop();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          shutdown_deadline.expires_after(config.shutdown_timeout);
          auto [ec] = co_await shutdown_deadline.async_wait(common::nothrow);
          if (ec || done) co_return;
          log::warn("shutdown timeout passed: stopping deliveries in flight");
          runtime->sink().stop();
          shutdown_deadline.expires_after(config.delivery.timeout + std::chrono::seconds(1));
          std::tie(ec) = co_await shutdown_deadline.async_wait(common::nothrow);
          if (ec || done) co_return;
          log::error("work still running after the shutdown timeout; exiting without it");
          io.stop();
        },
        [&](const std::exception_ptr& e) {
          common::log_task_failure("shutdown", e,
                                   [&] { metrics.task_failures("shutdown").Increment(); });
        });
  };
  runtime->on_fatal = [&] {
    if (done || exit_code != 0) return;
    exit_code = 1;
    signals.cancel();
    shut_down("stdout closed");
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [ec, signal] = co_await signals.async_wait(common::nothrow);
        if (ec || done) co_return;
        shut_down(signal == SIGTERM ? "SIGTERM" : "SIGINT");
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
