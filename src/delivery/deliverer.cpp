#include "delivery/deliverer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <stdexcept>

#include "common/http_header.hpp"
#include "common/log.hpp"
#include "common/tasks.hpp"
#include "events/encoding.hpp"

namespace sab::delivery {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace asio::experimental::awaitable_operators;

namespace {

std::string_view mode_name(config::DeliveryMode mode) {
  return config::to_string(mode);
}

}  // namespace

DelivererOptions DelivererOptions::from_config(const config::Config& config) {
  DelivererOptions o;
  o.target = config.target;
  o.mode = config.delivery.mode;
  o.batch_size = config.delivery.batch_size;
  o.concurrency = config.delivery.concurrency;
  o.timeout = config.delivery.timeout;
  o.headers = config.delivery.headers;
  o.tls = {config.delivery.ca_file, config.delivery.insecure_skip_verify};
  o.max_attempts = config.send_event_attempts;
  o.state_dir = config.state_dir;
  return o;
}

// The state of one deliver() call, shared by its workers.
struct Deliverer::Run {
  std::vector<events::Event> batch;
  std::size_t unit_size = 1;
  std::size_t next = 0;        // index of the first event not yet taken by a worker
  bool misconfigured = false;  // the target's answer needs a fix: send nothing more
  DeliveryResult result;
};

struct Deliverer::Exchange {
  std::optional<net::Response> response;
  std::string error;  // why there is no response
  bool cancelled = false;
  bool proxy_auth = false;  // the proxy wants other credentials: only fixing them helps
};

Deliverer::Deliverer(asio::any_io_executor executor, DelivererOptions options,
                     metrics::Metrics& metrics, UniformRandom random, Clock now)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      metrics_(metrics),
      random_(std::move(random)),
      now_(std::move(now)),
      dead_letter_(options_.state_dir),
      stop_(std::make_shared<StopState>(executor_)) {
  auto url = net::parse_url(options_.target);
  if (!url)
    throw std::invalid_argument("delivery target is not an http(s) URL: " + options_.target);
  url_ = std::move(*url);
  for (const auto& [name, value] : options_.headers) {
    if (!common::valid_header_name(name)) {
      throw std::invalid_argument("delivery header name '" + name + "' is not a valid HTTP token");
    }
    if (!common::valid_header_value(value)) {
      throw std::invalid_argument("delivery header '" + name +
                                  "' has a value with control characters");
    }
    if (!value.empty()) log::add_secret(value);
    if (boost::beast::iequals(name, "User-Agent")) user_agent_configured_ = true;
  }
  if (options_.concurrency == 0) options_.concurrency = 1;
  if (options_.batch_size == 0) options_.batch_size = 1;
  if (url_.tls) tls_ = net::make_client_tls_context(options_.tls);
}

Deliverer::~Deliverer() = default;

void Deliverer::stop() {
  stop_->stopped.store(true);
  asio::post(executor_, [stop = stop_] { stop->timer.cancel(); });
}

Deliverer::Connections Deliverer::acquire_connections() {
  if (!idle_connections_.empty()) {
    auto connections = std::move(idle_connections_.back());
    idle_connections_.pop_back();
    return connections;
  }
  Connections connections;
  connections.target =
      std::make_unique<net::HttpClient>(executor_, url_, tls_, options_.proxies.for_origin(url_));
  return connections;
}

net::HttpClient& Deliverer::client_for(Connections& connections, const net::Url& url) {
  const auto same_origin = [&url](const net::Url& o) {
    return o.tls == url.tls && o.host == url.host && o.port == url.port;
  };
  if (same_origin(url_)) return *connections.target;
  auto& redirected = connections.redirected;
  for (auto& client : redirected) {
    if (same_origin(client->origin())) return *client;
  }
  // A few origins at most (a chain has kMaxRedirects hops); the oldest one goes first.
  if (redirected.size() >= kMaxRedirects) redirected.erase(redirected.begin());
  // An http target may redirect to https: that origin is verified like an https target.
  if (url.tls && !tls_) tls_ = net::make_client_tls_context(options_.tls);
  redirected.push_back(
      std::make_unique<net::HttpClient>(executor_, url, tls_, options_.proxies.for_origin(url)));
  return *redirected.back();
}

// The result label of the events counter: the one place an Outcome becomes a string.
std::string_view Deliverer::metric_label(Outcome outcome) {
  switch (outcome) {
    case Outcome::delivered:
      return "delivered";
    case Outcome::dead_lettered:
      return "dead_lettered";
    case Outcome::failed:
      return "failed";
  }
  return "failed";
}

void Deliverer::settle(Run& run, std::size_t begin, std::size_t count, Outcome outcome) {
  if (count == 0) return;
  switch (outcome) {
    case Outcome::delivered:
      run.result.delivered += count;
      report_settled(begin, std::span(run.batch).subspan(begin, count));
      break;
    case Outcome::dead_lettered:
      run.result.dead_lettered += count;
      report_settled(begin, std::span(run.batch).subspan(begin, count));
      break;
    case Outcome::failed:
      run.result.failed += count;
      for (std::size_t i = begin; i < begin + count; ++i)
        run.result.failed_at.push_back(i);
      break;
  }
  metrics_.events(metric_label(outcome)).Increment(static_cast<double>(count));
}

asio::awaitable<bool> Deliverer::sleep(std::chrono::milliseconds delay) {
  if (stopped()) co_return false;
  if (delay.count() <= 0) co_return true;
  asio::steady_timer timer(executor_, delay);
  auto which =
      co_await (timer.async_wait(common::nothrow) || stop_->timer.async_wait(common::nothrow));
  co_return which.index() == 0 && !stopped();
}

asio::awaitable<DeliveryResult> Deliverer::deliver(std::vector<events::Event> batch) {
  auto run = std::make_shared<Run>();
  run->batch = std::move(batch);
  run->unit_size = options_.mode == config::DeliveryMode::batch ? options_.batch_size : 1;
  if (run->batch.empty()) co_return run->result;

  const std::size_t units = (run->batch.size() + run->unit_size - 1) / run->unit_size;
  const std::size_t workers = std::min(options_.concurrency, units);
  using Op = decltype(asio::co_spawn(executor_, worker(run), asio::deferred));
  std::vector<Op> ops;
  ops.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    ops.push_back(asio::co_spawn(executor_, worker(run), asio::deferred));
  }
  auto [order, exceptions] =
      co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  (void)order;
  for (const auto& e : exceptions) {
    common::log_task_failure("delivery", e,
                             [this] { metrics_.task_failures("delivery").Increment(); });
  }
  // Events no worker took (stopped, or a worker died) are not delivered.
  const std::size_t taken = std::min(run->next, run->batch.size());
  settle(*run, taken, run->batch.size() - taken, Outcome::failed);
  run->next = run->batch.size();
  const auto& r = run->result;
  if (r.failed != 0 || r.dead_lettered != 0) {
    log::warn(
        "delivery finished with undelivered events",
        {{"delivered", r.delivered}, {"dead_lettered", r.dead_lettered}, {"failed", r.failed}});
  } else {
    log::debug("delivery finished", {{"delivered", r.delivered}});
  }
  co_return run->result;
}

asio::awaitable<void> Deliverer::worker(std::shared_ptr<Run> run) {
  auto connections = acquire_connections();
  Buffers buffers;  // reused by every request of this worker
  for (;;) {
    // A cancelled deliver() (e.g. a shutdown deadline) ends like stop(): untaken events fail.
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (stopped() || run->misconfigured || run->next >= run->batch.size() ||
        cs.cancelled() != asio::cancellation_type::none) {
      break;
    }
    const std::size_t begin = run->next;
    const std::size_t end = std::min(run->batch.size(), begin + run->unit_size);
    run->next = end;
    try {
      co_await send_unit(connections, *run, begin, end, buffers);
    } catch (const std::exception& e) {
      // Not expected (send_unit handles transport errors): never lose count of the events.
      log::error("delivery of events failed unexpectedly",
                 {{"error", e.what()}, {"events", end - begin}});
      settle(*run, begin, end - begin, Outcome::failed);
      connections.target->close();
      connections.redirected.clear();
    }
  }
  idle_connections_.push_back(std::move(connections));
}

std::string_view Deliverer::write_request(const Run& run, std::size_t begin, std::size_t end,
                                          Buffers& buffers) const {
  std::string& head = buffers.head;
  head.clear();
  net::begin_request_head(head, "POST", url_.target, url_.host_header);
  buffers.request_line_size = head.size();
  const std::string_view body = events::write_http_request(
      options_.mode, std::span(run.batch).subspan(begin, end - begin), head, buffers.body);
  if (!user_agent_configured_) net::append_header(head, "User-Agent", net::user_agent());
  for (const auto& [name, value] : options_.headers)
    net::append_header(head, name, value);
  net::end_request_head(head, body.size());
  return body;
}

asio::awaitable<Deliverer::Exchange> Deliverer::exchange(net::HttpClient& client,
                                                         std::string_view head,
                                                         std::string_view body) {
  const asio::cancellation_state cancel_state = co_await asio::this_coro::cancellation_state;
  Exchange x;
  metrics_.deliveries_in_flight().Increment();
  const auto started = std::chrono::steady_clock::now();
  try {
    // Any 2xx acknowledges, whatever its body: an oversized one is dropped, not an error.
    x.response = co_await client.send_prepared(
        head, body, options_.timeout, options_.response_body_limit, net::OversizedBody::drop);
  } catch (const net::TransportError& e) {
    x.error = std::string(net::to_string(e.kind())) + ": " + e.what();
    x.proxy_auth = e.kind() == net::TransportErrorKind::proxy_auth;
  } catch (const std::exception& e) {
    x.error = e.what();
    client.close();
  }
  x.cancelled = cancel_state.cancelled() != asio::cancellation_type::none;
  metrics_.deliveries_in_flight().Decrement();
  metrics_.delivery_duration().Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return x;
}

// One attempt: the request to the target, then to where its 307/308 answers lead.
struct Deliverer::Attempt {
  Exchange x;  // the last exchange
  StatusClass cls = classify_transport_error();
  unsigned status = 0;                // of the last answer, 0 without one
  unsigned hops = 0;                  // redirects followed
  std::string problem;                // why a 1xx/3xx answer was not followed
  std::string location;               // of the last 1xx/3xx answer, as logs show it
  net::HttpClient* client = nullptr;  // that sent the last request
};

asio::awaitable<void> Deliverer::send_unit(Connections& connections, Run& run, std::size_t begin,
                                           std::size_t end, Buffers& buffers) {
  const std::size_t count = end - begin;
  // Written once and sent as is by every attempt; the buffers are the worker's.
  const std::string_view body = write_request(run, begin, end, buffers);
  for (unsigned attempt = 1;; ++attempt) {
    const Attempt a = co_await send_attempt(connections, run.batch[begin], buffers, body);
    if (a.x.cancelled) {
      // deliver() was cancelled (shutdown deadline): no retry, the events stay pending.
      settle(run, begin, count, Outcome::failed);
      co_return;
    }
    switch (a.cls) {
      case StatusClass::ack:
        metrics_.delivery_attempts("success").Increment();
        settle(run, begin, count, Outcome::delivered);
        co_return;
      case StatusClass::misconfigured:
        give_up_misconfigured(run, begin, end, a);
        co_return;
      case StatusClass::permanent:
        write_dead_letters(run, begin, end, a.status);
        co_return;
      case StatusClass::retry:
      case StatusClass::redirect:
        break;
    }
    if (!co_await retry_wait(a, attempt, count, run.batch[begin])) {
      settle(run, begin, count, Outcome::failed);
      co_return;
    }
  }
}

asio::awaitable<Deliverer::Attempt> Deliverer::send_attempt(Connections& connections,
                                                            const events::Event& first,
                                                            Buffers& buffers,
                                                            std::string_view body) {
  // Every attempt starts at the target; 307/308 are followed within the attempt.
  Attempt a;
  a.client = connections.target.get();
  const net::Url* url = &url_;
  std::string_view head = buffers.head;
  for (;;) {
    a.x = co_await exchange(*a.client, head, body);
    if (a.x.cancelled || !a.x.response) {
      a.cls = classify_transport_error();
      if (!a.x.cancelled && a.x.proxy_auth) {
        // Like a target that redirects where it should not: no retry, the day stays pending.
        a.cls = StatusClass::misconfigured;
        a.problem = a.x.error + "; fix proxy.url (or HTTPS_PROXY / HTTP_PROXY)";
      }
      co_return a;
    }
    a.status = a.x.response->result_int();
    a.cls = classify_status(a.status);
    if (a.cls != StatusClass::redirect && a.cls != StatusClass::misconfigured) co_return a;
    std::optional<std::string_view> raw_location;
    if (auto it = a.x.response->find(http::field::location); it != a.x.response->end()) {
      raw_location = std::string_view(it->value().data(), it->value().size());
    }
    a.location = raw_location ? loggable_location(*raw_location) : std::string();
    auto step = redirect_step(a.status, *url, raw_location, a.hops);
    if (!step.next) {
      a.cls = StatusClass::misconfigured;
      a.problem = std::move(step.problem);
      co_return a;
    }
    ++a.hops;
    note_redirect(a, first);
    head = write_hop_head(buffers, std::move(*step.next));
    url = &buffers.hop_url;
    a.client = &client_for(connections, buffers.hop_url);
  }
}

void Deliverer::note_redirect(const Attempt& a, const events::Event& first) {
  metrics_.delivery_attempts("redirected").Increment();
  // Once a warning, then debug: every delivery would repeat it.
  const bool first_redirect = !redirect_noted_;
  redirect_noted_ = true;
  log::write(
      first_redirect ? log::Level::warn : log::Level::debug,
      "target redirects deliveries; following (set the target to the new URL to save "
      "a request per delivery)",
      {{"status", a.status}, {"location", a.location}, {"hops", a.hops}, {"first_id", first.id}});
}

std::string_view Deliverer::write_hop_head(Buffers& buffers, net::Url next) {
  buffers.hop_url = std::move(next);
  // The redirect's request line and Host, then the same headers and body.
  std::string hop_head;
  hop_head.reserve(buffers.head.size() + buffers.hop_url.target.size());
  net::begin_request_head(hop_head, "POST", buffers.hop_url.target, buffers.hop_url.host_header);
  hop_head.append(buffers.head, buffers.request_line_size);
  buffers.hop_head = std::move(hop_head);
  return buffers.hop_head;
}

void Deliverer::give_up_misconfigured(Run& run, std::size_t begin, std::size_t end,
                                      const Attempt& a) {
  // Only fixing the target's URL or front cures this: no retry, no dead letter; the day
  // stays pending and /readyz says why.
  metrics_.delivery_attempts("misconfigured").Increment();
  log::error(
      "target answered with a status that is not an acknowledgement; events not "
      "delivered, the day stays pending",
      {{"status", a.status},
       {"location", a.location},
       {"redirects_followed", a.hops},
       {"events", end - begin},
       {"first_id", run.batch[begin].id},
       {"problem", a.problem}});
  a.client->close();  // a 1xx may be followed by more bytes of the same answer
  run.misconfigured = true;
  run.result.target_problem = a.problem;
  settle(run, begin, end - begin, Outcome::failed);
}

void Deliverer::write_dead_letters(Run& run, std::size_t begin, std::size_t end, unsigned status) {
  metrics_.delivery_attempts("permanent_status").Increment();
  log::error("target refused events permanently; writing them to the dead-letter file",
             {{"status", status},
              {"events", end - begin},
              {"first_id", run.batch[begin].id},
              {"mode", mode_name(options_.mode)}});
  // Event by event: one that cannot be written fails alone.
  for (std::size_t i = begin; i < end; ++i) {
    try {
      dead_letter_.append(run.batch[i]);
      settle(run, i, 1, Outcome::dead_lettered);
    } catch (const std::exception& e) {
      log::error("cannot write to the dead-letter file; the event counts as failed",
                 {{"error", e.what()}, {"id", run.batch[i].id}});
      settle(run, i, 1, Outcome::failed);
    }
  }
}

asio::awaitable<bool> Deliverer::retry_wait(const Attempt& a, unsigned attempt, std::size_t count,
                                            const events::Event& first) {
  std::optional<std::chrono::milliseconds> retry_after;
  if (a.x.response) {
    if (auto it = a.x.response->find(http::field::retry_after); it != a.x.response->end()) {
      retry_after = parse_retry_after(it->value(), now_(), options_.backoff.max_retry_after);
    }
  }
  metrics_.delivery_attempts(a.x.response ? "retryable_status" : "transport_error").Increment();
  const bool again = may_retry(attempt, options_.max_attempts) && !stopped();
  const auto delay = next_delay(options_.backoff, attempt, retry_after, random_);
  const auto retry_in_ms = again ? delay.count() : -1;
  if (a.x.response) {
    log::warn("delivery attempt failed", {{"status", a.status},
                                          {"attempt", attempt},
                                          {"events", count},
                                          {"first_id", first.id},
                                          {"retry_in_ms", retry_in_ms}});
  } else {
    log::warn("delivery attempt failed", {{"error", a.x.error},
                                          {"attempt", attempt},
                                          {"events", count},
                                          {"first_id", first.id},
                                          {"retry_in_ms", retry_in_ms}});
  }
  if (again && co_await sleep(delay)) co_return true;
  log::error(stopped() ? "delivery stopped; events not delivered"
                       : "delivery attempts exhausted; events not delivered",
             {{"attempts", attempt}, {"events", count}, {"first_id", first.id}});
  co_return false;
}

}  // namespace sab::delivery
