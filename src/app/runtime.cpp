#include "app/runtime.hpp"

#include <malloc.h>

#include <cstdio>
#include <iostream>

#include "aws/credential_chain.hpp"
#include "common/log.hpp"
#include "delivery/deliverer.hpp"
#include "delivery/dry_run.hpp"

namespace sab::app {
namespace asio = boost::asio;

WallClock make_clock(const config::Env& env) {
  if (auto fake = env("SAB_FAKE_NOW"); fake && !fake->empty()) {
    // YYYY-MM-DDTHH:MM:SSZ
    const std::string& t = *fake;
    auto day = t.size() == 20 ? parse_date(std::string_view(t).substr(0, 10)) : std::nullopt;
    int h = 0, m = 0, sec = 0;
    if (!day || t[10] != 'T' || t[19] != 'Z' ||
        std::sscanf(t.c_str() + 11, "%2d:%2d:%2d", &h, &m, &sec) != 3 || h > 23 || m > 59 ||
        sec > 59) {
      throw std::runtime_error("SAB_FAKE_NOW must look like 2024-01-15T02:00:00Z");
    }
    const auto pinned = std::chrono::sys_seconds{*day} + std::chrono::hours{h} +
                        std::chrono::minutes{m} + std::chrono::seconds{sec};
    // The pinned instant plus the time since start, so timers and logs still make sense.
    const auto started = std::chrono::steady_clock::now();
    return [pinned, started] {
      return std::chrono::system_clock::time_point{pinned} +
             std::chrono::duration_cast<std::chrono::system_clock::duration>(
                 std::chrono::steady_clock::now() - started);
    };
  }
  return [] { return std::chrono::system_clock::now(); };
}

Runtime::Runtime(const config::Config& config, const Options& options)
    : config_(config), clock_(make_clock(config::process_env())) {
  // Every outgoing request but the instance metadata service may go through a proxy.
  const net::ProxySettings proxies(config_.proxy.url, config_.proxy.no_proxy,
                                   config::process_env());
  if (!proxies.empty()) log::info("outgoing requests use a proxy", {{"proxy", proxies.describe()}});
  aws::ChainOptions chain_options;
  chain_options.clock = clock_;
  chain_options.proxies = proxies;
  credentials_ = std::make_shared<aws::ChainCredentialProvider>(
      io_.get_executor(), config_, config::process_env(), &metrics_, chain_options);
  aws::CeClientOptions ce_options;
  ce_options.clock = clock_;
  ce_options.proxies = proxies;
  ce_ = std::make_unique<aws::CostExplorerClient>(io_.get_executor(), config_, credentials_,
                                                  metrics_, ce_options);
  if (options.dry_run) {
    sink_ = std::make_unique<delivery::DryRunSink>(std::cout, [this] {
      output_closed_ = true;
      cancel_pull();
      if (on_fatal) on_fatal();
    });
  } else {
    auto delivery_options = delivery::DelivererOptions::from_config(config_);
    delivery_options.proxies = proxies;
    sink_ = std::make_unique<delivery::Deliverer>(io_.get_executor(), std::move(delivery_options),
                                                  metrics_);
  }
  FetchFn fetch = [this](Day first, Day end, PageHandler handler) {
    return cancellable(ce_->fetch(aws::TimePeriod{first, end}, std::move(handler)));
  };
  pipeline_ = std::make_unique<Pipeline>(config_, std::move(fetch), *sink_, metrics_, clock_);
  CallFn call = [this](std::string_view operation, const std::string& body,
                       const aws::CostExplorerClient::AnswerReader& read, bool restarted) {
    return cancellable(ce_->call(operation, body, read, restarted));
  };
  insights_ = std::make_unique<Insights>(config_, std::move(call), *sink_, metrics_, clock_);
}

Runtime::~Runtime() = default;

std::unique_ptr<Runtime> make_runtime(const config::Config& config, const Options& options) {
  try {
    return std::make_unique<Runtime>(config, options);
  } catch (const std::exception& e) {
    log::error("cannot start", {{"error", e.what()}});
    return nullptr;
  }
}

std::optional<Day> Runtime::digest_from(schedule::Instant now) const {
  if (config_.restate_days == 0) return std::nullopt;
  return schedule::last_complete_day(now) - std::chrono::days{config_.restate_days - 1};
}

std::optional<Day> Runtime::journal_from(schedule::Instant now) const {
  const auto restate = digest_from(now);
  const auto follow = schedule::follow_from(now, config_);
  if (restate && follow) return std::min(*restate, *follow);
  return restate ? restate : follow;
}

PullRequest Runtime::request_for(const schedule::DayRange& days, schedule::Instant now) const {
  PullRequest request{days, std::nullopt, digest_from(now)};
  request.follow_from = schedule::follow_from(now, config_);
  return request;
}

PullRequest Runtime::request_of(const schedule::PullPlan& plan, const state::State& state,
                                schedule::Instant now) const {
  const auto period = plan.period();
  PullRequest request = request_for(*period, now);
  request.restate = plan.restate;
  request.follow = plan.follow;
  request.delivered_until = state.checkpoint;
  request.extra = plan.extra();
  log::info("pull started", {{"from", format_date(period->first)},
                             {"to", format_date(period->last)},
                             {"restated_days", plan.restate ? plan.restate->count() : 0},
                             {"followed_periods", plan.follow.size()},
                             {"extra_from", request.extra ? format_date(request.extra->first) : ""},
                             {"extra_to", request.extra ? format_date(request.extra->last) : ""}});
  return request;
}

asio::awaitable<PullOutcome> Runtime::pull_and_checkpoint(const schedule::PullPlan& plan,
                                                          state::State& state, bool persist) {
  const auto period = plan.period();
  if (!period) {
    PullOutcome nothing;
    nothing.fetched = true;
    co_return nothing;
  }
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_());
  if (plan.skipped_days > 0) {
    log::warn("missed days older than catch_up_days are skipped; backfill them with --once",
              {{"days", plan.skipped_days}, {"catch_up_days", config_.catch_up_days}});
  }
  const auto started = std::chrono::steady_clock::now();
  state::State next = state;
  const PullRequest request = request_of(plan, state, now);
  PullOutcome outcome = co_await pipeline_->pull(request, next);
  // A pull's pages and events are freed now; hand the memory back so an idle service stays small
  // (glibc keeps freed heap otherwise).
  ::malloc_trim(0);
  next.checkpoint = advance_checkpoint(state.checkpoint, plan.fresh, outcome, config_.granularity);

  bool saved = true;
  if (persist && !(next == state)) {
    try {
      state::save(config_.state_dir, next);
      state_saved(next);
    } catch (const state::StateError& e) {
      // The days stay pending: they are pulled and delivered again (same ids) next time.
      saved = false;
      outcome.error = std::string("state not saved: ") + e.what();
    }
  }
  // A dry run keeps its progress in memory only, so its next firing plans as the service would.
  if (saved) state = std::move(next);
  if (state.checkpoint) {
    metrics_.checkpoint().Set(static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(state.checkpoint->time_since_epoch())
            .count()));
  }

  outcome.state_saved = saved;
  const bool ok = outcome.succeeded();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (outcome.cancelled) {
    // Not a failure of AWS or the target: counted neither way.
    log::info("pull cancelled by shutdown; its days stay pending",
              {{"delivered", outcome.result.delivered},
               {"checkpoint", state.checkpoint ? format_date(*state.checkpoint) : ""},
               {"seconds", seconds}});
    co_return outcome;
  }
  metrics_.pulls(ok ? "success" : "failure").Increment();
  if (ok) {
    metrics_.last_successful_pull().Set(static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count()));
    log::info("pull done", {{"delivered", outcome.result.delivered},
                            {"dead_lettered", outcome.result.dead_lettered},
                            {"unchanged", outcome.unchanged},
                            {"journalled", outcome.journalled},
                            {"checkpoint", state.checkpoint ? format_date(*state.checkpoint) : ""},
                            {"seconds", seconds}});
  } else {
    log::error("pull failed",
               {{"error", !outcome.result.target_problem.empty() ? outcome.result.target_problem
                          : outcome.error.empty()                ? "events not delivered"
                                                                 : outcome.error},
                {"delivered", outcome.result.delivered},
                {"failed", outcome.result.failed},
                {"checkpoint", state.checkpoint ? format_date(*state.checkpoint) : ""}});
  }
  co_return outcome;
}

}  // namespace sab::app
