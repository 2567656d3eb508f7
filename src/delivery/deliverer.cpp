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
#include <cctype>
#include <stdexcept>

#include "app/log.hpp"
#include "events/encoding.hpp"

namespace sab::delivery {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace asio::experimental::awaitable_operators;

namespace {

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    // RFC 9110 token characters.
    if (!(std::isalnum(c) ||
          std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos))
      return false;
  }
  return true;
}

bool valid_header_value(std::string_view value) {
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

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
  std::size_t next = 0;  // index of the first event not yet taken by a worker
  DeliveryResult result;
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
    if (!valid_header_name(name)) {
      throw std::invalid_argument("delivery header name '" + name + "' is not a valid HTTP token");
    }
    if (!valid_header_value(value)) {
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

std::unique_ptr<net::HttpClient> Deliverer::acquire_client() {
  if (!idle_clients_.empty()) {
    auto client = std::move(idle_clients_.back());
    idle_clients_.pop_back();
    return client;
  }
  return std::make_unique<net::HttpClient>(executor_, url_, tls_);
}

void Deliverer::settle(Run& run, std::size_t begin, std::size_t count, std::string_view result) {
  if (count == 0) return;
  if (result == "delivered") {
    run.result.delivered += count;
  } else if (result == "dead_lettered") {
    run.result.dead_lettered += count;
  } else {
    run.result.failed += count;
    for (std::size_t i = begin; i < begin + count; ++i)
      run.result.failed_at.push_back(i);
  }
  metrics_.events(result).Increment(static_cast<double>(count));
}

asio::awaitable<bool> Deliverer::sleep(std::chrono::milliseconds delay) {
  if (stopped()) co_return false;
  if (delay.count() <= 0) co_return true;
  asio::steady_timer timer(executor_, delay);
  auto which = co_await (timer.async_wait(asio::as_tuple(asio::use_awaitable)) ||
                         stop_->timer.async_wait(asio::as_tuple(asio::use_awaitable)));
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
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("delivery worker ended with an error", {{"error", ex.what()}});
    }
    metrics_.task_failures("delivery").Increment();
  }
  // Events no worker took (stopped, or a worker died) are not delivered.
  const std::size_t taken = std::min(run->next, run->batch.size());
  settle(*run, taken, run->batch.size() - taken, "failed");
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
  auto client = acquire_client();
  Buffers buffers;  // reused by every request of this worker
  for (;;) {
    // A cancelled deliver() (e.g. a shutdown deadline) ends like stop(): untaken events fail.
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (stopped() || run->next >= run->batch.size() ||
        cs.cancelled() != asio::cancellation_type::none) {
      break;
    }
    const std::size_t begin = run->next;
    const std::size_t end = std::min(run->batch.size(), begin + run->unit_size);
    run->next = end;
    try {
      co_await send_unit(*client, *run, begin, end, buffers);
    } catch (const std::exception& e) {
      // Not expected (send_unit handles transport errors): never lose count of the events.
      log::error("delivery of events failed unexpectedly",
                 {{"error", e.what()}, {"events", end - begin}});
      settle(*run, begin, end - begin, "failed");
      client->close();
    }
  }
  idle_clients_.push_back(std::move(client));
}

std::string_view Deliverer::write_request(const Run& run, std::size_t begin, std::size_t end,
                                          Buffers& buffers) const {
  const events::Event& first = run.batch[begin];
  std::string& head = buffers.head;
  head.clear();
  buffers.body.clear();
  net::begin_request_head(head, "POST", url_.target, url_.host_header);
  std::string_view body;
  switch (options_.mode) {
    case config::DeliveryMode::binary:
      events::append_binary_head(head, first);
      body = first.data;  // sent from the event itself, no copy
      break;
    case config::DeliveryMode::structured:
      net::append_header(head, "Content-Type", events::kStructuredContentType);
      events::append_structured_json(buffers.body, first);
      body = buffers.body;
      break;
    case config::DeliveryMode::batch:
      net::append_header(head, "Content-Type", events::kBatchContentType);
      buffers.body.push_back('[');
      for (std::size_t i = begin; i < end; ++i) {
        if (i != begin) buffers.body.push_back(',');
        events::append_structured_json(buffers.body, run.batch[i]);
      }
      buffers.body.push_back(']');
      body = buffers.body;
      break;
  }
  if (!user_agent_configured_) net::append_header(head, "User-Agent", net::user_agent());
  for (const auto& [name, value] : options_.headers)
    net::append_header(head, name, value);
  net::end_request_head(head, body.size());
  return body;
}

asio::awaitable<void> Deliverer::send_unit(net::HttpClient& client, Run& run, std::size_t begin,
                                           std::size_t end, Buffers& buffers) {
  const std::size_t count = end - begin;
  const events::Event& first = run.batch[begin];
  // Written once and sent as is by every attempt; the buffers are the worker's.
  const std::string_view body = write_request(run, begin, end, buffers);
  for (unsigned attempt = 1;; ++attempt) {
    std::optional<net::Response> response;
    std::string error;
    metrics_.deliveries_in_flight().Increment();
    const auto started = std::chrono::steady_clock::now();
    try {
      response = co_await client.send_prepared(buffers.head, body, options_.timeout,
                                               options_.response_body_limit);
    } catch (const net::TransportError& e) {
      error = std::string(net::to_string(e.kind())) + ": " + e.what();
    } catch (const std::exception& e) {
      error = e.what();
      client.close();
    }
    metrics_.deliveries_in_flight().Decrement();
    metrics_.delivery_duration().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

    StatusClass cls = classify_transport_error();
    std::optional<std::chrono::milliseconds> retry_after;
    unsigned status = 0;
    if (response) {
      status = response->result_int();
      cls = classify_status(status);
      if (auto it = response->find(http::field::retry_after); it != response->end()) {
        retry_after = parse_retry_after(it->value(), now_(), options_.backoff.max_retry_after);
      }
    }

    if (cls == StatusClass::ack) {
      metrics_.delivery_attempts("success").Increment();
      settle(run, begin, count, "delivered");
      co_return;
    }
    if (cls == StatusClass::permanent) {
      metrics_.delivery_attempts("permanent_status").Increment();
      log::error("target refused events permanently; writing them to the dead-letter file",
                 {{"status", status},
                  {"events", count},
                  {"first_id", first.id},
                  {"mode", mode_name(options_.mode)}});
      for (std::size_t i = begin; i < end; ++i) {
        try {
          dead_letter_.append(run.batch[i]);
          settle(run, i, 1, "dead_lettered");
        } catch (const std::exception& e) {
          log::error("cannot write to the dead-letter file; the event counts as failed",
                     {{"error", e.what()}, {"id", run.batch[i].id}});
          settle(run, i, 1, "failed");
        }
      }
      co_return;
    }

    metrics_.delivery_attempts(response ? "retryable_status" : "transport_error").Increment();
    const bool again = may_retry(attempt, options_.max_attempts) && !stopped();
    const auto delay = next_delay(options_.backoff, attempt, retry_after, random_);
    if (response) {
      log::warn("delivery attempt failed", {{"status", status},
                                            {"attempt", attempt},
                                            {"events", count},
                                            {"first_id", first.id},
                                            {"retry_in_ms", again ? delay.count() : -1}});
    } else {
      log::warn("delivery attempt failed", {{"error", error},
                                            {"attempt", attempt},
                                            {"events", count},
                                            {"first_id", first.id},
                                            {"retry_in_ms", again ? delay.count() : -1}});
    }
    if (!again || !co_await sleep(delay)) {
      log::error(stopped() ? "delivery stopped; events not delivered"
                           : "delivery attempts exhausted; events not delivered",
                 {{"attempts", attempt}, {"events", count}, {"first_id", first.id}});
      settle(run, begin, count, "failed");
      co_return;
    }
  }
}

}  // namespace sab::delivery
