#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "app/cli.hpp"
#include "app/pipeline.hpp"
#include "aws/ce_client.hpp"
#include "aws/credentials.hpp"
#include "config/config.hpp"
#include "delivery/sink.hpp"
#include "metrics/metrics.hpp"
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

  // One pull of `plan`, then the checkpoint and digests saved when they moved. Logs and counts
  // the outcome. Returns the outcome; `state` holds what is on disk afterwards.
  boost::asio::awaitable<PullOutcome> pull_and_checkpoint(const schedule::PullPlan& plan,
                                                          state::State& state, bool persist);

  // The oldest day whose digests are kept (restatement window), or none without restatement.
  std::optional<Day> digest_from(schedule::Instant now) const;

 private:
  config::Config config_;
  WallClock clock_;
  boost::asio::io_context io_{1};
  metrics::Metrics metrics_;
  std::shared_ptr<aws::CredentialProvider> credentials_;
  std::unique_ptr<aws::CostExplorerClient> ce_;
  std::unique_ptr<delivery::EventSink> sink_;
  std::unique_ptr<Pipeline> pipeline_;
};

// Builds the runtime; when a part cannot be built, logs why and returns null.
std::unique_ptr<Runtime> make_runtime(const config::Config& config, const Options& options);

// SAB_FAKE_NOW=2024-01-15T02:00:00Z pins the wall clock (for tests of days and schedules only).
WallClock make_clock(const config::Env& env);

}  // namespace sab::app
