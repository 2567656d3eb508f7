#include "app/service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/log.hpp"
#include "app/version.hpp"
#include "metrics/metrics.hpp"
#include "net/http_server.hpp"

namespace sab::app {
namespace asio = boost::asio;

int run_service(const config::Config& config, const Options& /*options*/) {
  asio::io_context io(1);
  // First, so a signal that arrives during start-up is handled, not fatal.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  metrics::Metrics metrics;

  std::string not_ready = "starting";
  net::HttpServer server(
      io, net::ServerOptions{.host = config.listen.host, .port = config.listen.port},
      net::ServerHandlers{.metrics_text = [&metrics] { return metrics.serialize(); },
                          .not_ready_reason = [&not_ready] { return not_ready; }},
      metrics);
  try {
    server.start();
  } catch (const std::system_error& e) {
    log::error("cannot start the HTTP server", {{"error", e.what()}});
    return 1;
  }
  const auto endpoint = server.local_endpoint();
  log::info("listening", {{"address", endpoint.address().to_string()},
                          {"port", static_cast<std::int64_t>(endpoint.port())}});

  not_ready.clear();
  metrics.ready().Set(1);

  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    not_ready = "shutting down";
    metrics.ready().Set(0);
    server.stop();
    // Nothing else holds work yet; stopping the loop ends the process at once.
    io.stop();
  });
  log::info("started", {{"version", kVersion}, {"commit", kCommit}});
  io.run();
  log::info("stopped");
  return 0;
}

}  // namespace sab::app
