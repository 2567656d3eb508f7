#pragma once

// The HTTP target sink: a pool of keep-alive connections delivering CloudEvents at least once,
// with retries, redirects and dead letters (SPEC §4).

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "delivery/dead_letter.hpp"
#include "delivery/retry.hpp"
#include "delivery/sink.hpp"
#include "metrics/metrics.hpp"
#include "net/http_client.hpp"

namespace sab::delivery {

struct DelivererOptions {
  std::string target;  // http(s) URL the events are POSTed to
  config::DeliveryMode mode = config::DeliveryMode::binary;
  std::size_t batch_size = 100;               // events per request in batch mode
  std::size_t concurrency = 4;                // requests in flight (= keep-alive connections)
  std::chrono::milliseconds timeout{10'000};  // per request
  std::vector<std::pair<std::string, std::string>> headers;  // values are secrets
  net::TlsConfig tls;
  unsigned max_attempts = 0;          // per request; 0 = until delivered or stopped
  std::string state_dir = "./state";  // dead-letter.jsonl lives here
  BackoffPolicy backoff;
  std::uint64_t response_body_limit = std::uint64_t{1024} * 1024;
  net::ProxySettings proxies;  // the target's (and redirected origins') proxy, if any

  static DelivererOptions from_config(const config::Config& config);
};

// Delivers events to the HTTP target, at least once (SPEC §4): `concurrency` workers, each with
// its own keep-alive connection (kept between deliver() calls), encode one request at a time
// (binary/structured: one event per request; batch: `batch_size` events per request). Any 2xx
// acknowledges, whatever its body (an oversized one is dropped); 408/429/5xx/transport errors are
// retried with backoff and full jitter, honouring Retry-After; 307/308 are followed (same method,
// headers and body, at most kMaxRedirects hops, never https -> http; a redirected origin gets
// connections of its own); any other 1xx/3xx, or a redirect not followed, is a misconfigured
// target: logged with its Location, counted, the events fail (the day stays pending) and the
// deliver() call sends nothing more; any other status sends the request's events to the
// dead-letter file.
//
// Use from one thread (the io_context running `executor`); stop() may be called from any thread.
// The Deliverer must outlive every deliver() call. deliver() calls should not overlap (each one
// opens up to `concurrency` connections).
class Deliverer : public EventSink {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Throws std::invalid_argument when the target is not an http(s) URL or a header is invalid,
  // std::runtime_error when the CA file is unusable.
  Deliverer(
      boost::asio::any_io_executor executor, DelivererOptions options, metrics::Metrics& metrics,
      UniformRandom random = default_random(),
      Clock now = [] { return std::chrono::system_clock::now(); });
  ~Deliverer() override;

  boost::asio::awaitable<DeliveryResult> deliver(std::vector<events::Event> batch) override;
  void stop() override;
  bool stopped() const { return stop_->stopped.load(); }

  const DelivererOptions& options() const { return options_; }

 private:
  struct Run;
  struct Exchange;
  struct Attempt;
  // How a request's events ended; settle() maps it to the metric label.
  enum class Outcome { delivered, dead_lettered, failed };
  // A worker's connections: to the target, and to the origins its redirects lead to.
  struct Connections {
    std::unique_ptr<net::HttpClient> target;
    std::vector<std::unique_ptr<net::HttpClient>> redirected;
  };
  boost::asio::awaitable<void> worker(std::shared_ptr<Run> run);
  struct Buffers {
    std::string head;                   // request line and headers
    std::string body;                   // structured and batch modes (binary sends event data)
    std::size_t request_line_size = 0;  // of `head`: request line and Host, redone per redirect
    std::string hop_head;               // `head` for the current redirect's URL
    net::Url hop_url;
  };
  // Writes the request of events [begin, end) into `buffers`; returns its body.
  std::string_view write_request(const Run& run, std::size_t begin, std::size_t end,
                                 Buffers& buffers) const;
  // Sends events [begin, end) until settled: delivered, dead-lettered, or failed (misconfigured
  // target, attempts exhausted, stopped or cancelled).
  boost::asio::awaitable<void> send_unit(Connections& connections, Run& run, std::size_t begin,
                                         std::size_t end, Buffers& buffers);
  // One attempt, redirects followed; classified, never thrown.
  boost::asio::awaitable<Attempt> send_attempt(Connections& connections, const events::Event& first,
                                               Buffers& buffers, std::string_view body);
  void note_redirect(const Attempt& a, const events::Event& first);
  // Points `buffers` at the redirect's URL; returns the head to send there.
  std::string_view write_hop_head(Buffers& buffers, net::Url next);
  void give_up_misconfigured(Run& run, std::size_t begin, std::size_t end, const Attempt& a);
  void write_dead_letters(Run& run, std::size_t begin, std::size_t end, unsigned status);
  // Counts and logs a failed attempt, then waits out the backoff. False: no attempt is left
  // (exhausted or stopped; logged), the caller fails the events.
  boost::asio::awaitable<bool> retry_wait(const Attempt& a, unsigned attempt, std::size_t count,
                                          const events::Event& first);
  // One request, timed and counted in flight; transport errors are returned, not thrown.
  boost::asio::awaitable<Exchange> exchange(net::HttpClient& client, std::string_view head,
                                            std::string_view body);
  boost::asio::awaitable<bool> sleep(std::chrono::milliseconds delay);
  Connections acquire_connections();
  net::HttpClient& client_for(Connections& connections, const net::Url& url);
  void settle(Run& run, std::size_t begin, std::size_t count, Outcome outcome);
  static std::string_view metric_label(Outcome outcome);

  boost::asio::any_io_executor executor_;
  DelivererOptions options_;
  metrics::Metrics& metrics_;
  UniformRandom random_;
  Clock now_;
  net::Url url_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  bool user_agent_configured_ = false;  // delivery.headers has its own User-Agent
  DeadLetter dead_letter_;
  // Shared with handlers posted by stop(), which may run after the Deliverer is gone.
  struct StopState {
    explicit StopState(const boost::asio::any_io_executor& ex)
        : timer(ex, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer timer;  // never expires; cancelled by stop()
    std::atomic<bool> stopped{false};
  };
  std::shared_ptr<StopState> stop_;
  std::vector<Connections> idle_connections_;
  bool redirect_noted_ = false;  // the first followed redirect is a warning, the others debug
};

}  // namespace sab::delivery
