// Deliverer against an in-process sink (tests/support/fake_http_server.hpp) for the cases a real
// CloudEvents receiver does not produce on demand: N failures, 429 with Retry-After, 500, 400
// (dead letter), a connection closed mid-response, a stall past the timeout, stop(), a 2xx with
// a 2 MiB body, and redirects checked request by request (Host, target, headers, body).
// The real CloudEvents SDK receiver is driven by receiver_test.cpp.

#include "delivery/deliverer.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/json.hpp"
#include "common/log.hpp"
#include "delivery/dry_run.hpp"
#include "support/cloudevents.hpp"
#include "support/fake_http_server.hpp"
#include "support/run_coroutine.hpp"
#include "support/temp_dir.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace sab;
using namespace std::chrono;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr const char* kSecretHeader = "Bearer very-secret-token-never-logged";

using Received = test::FakeHttpServer::Request;

test::Reply reply(unsigned status, test::Headers headers = {}) {
  return test::respond(status, std::move(headers));
}

// A 200 whose body ends long before its Content-Length, then the connection closed.
test::Reply close_mid_response() {
  return test::truncated("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial");
}

events::Event make(int i, std::string service = "") {
  if (service.empty()) service = "Service " + std::to_string(i);
  events::Event e;
  e.id = "id-" + std::to_string(i);
  e.source = "cloud.aws.billing";
  e.type = "aws.service.daily";
  e.subject = "2023-01-15/" + service;
  e.time = "2023-01-16T02:00:00Z";
  e.estimated = i % 2 == 0;
  e.data = "{\"date\":\"2023-01-15\",\"service\":" + common::json_string(service) +
           ",\"unblendedCost\":{\"amount\":\"" + std::to_string(i) + ".5\",\"unit\":\"USD\"}}";
  return e;
}

std::vector<events::Event> make_many(int n) {
  std::vector<events::Event> out;
  for (int i = 0; i < n; ++i)
    out.push_back(make(i));
  return out;
}

struct Harness {
  asio::io_context ioc;
  test::FakeHttpServer sink{ioc};
  metrics::Metrics metrics;
  test::TempDir dir{"deliverer"};
  fs::path state = dir / "state";
  delivery::DelivererOptions options;
  std::vector<std::string> log_lines;

  Harness() {
    options.target = sink.url("/events");
    options.mode = config::DeliveryMode::binary;
    options.concurrency = 2;
    options.timeout = milliseconds{2000};
    options.headers = {{"Authorization", kSecretHeader}, {"X-Tenant", "t1"}};
    options.state_dir = state.string();
    options.backoff = {milliseconds{1}, milliseconds{5}, milliseconds{1000}};
    log::set_sink([this](std::string_view line) { log_lines.emplace_back(line); });
  }
  ~Harness() { log::set_sink(nullptr); }

  delivery::DeliveryResult run(delivery::Deliverer& d, std::vector<events::Event> batch) {
    return test::run_coroutine(ioc, d.deliver(std::move(batch)));
  }

  delivery::DeliveryResult deliver(std::vector<events::Event> batch) {
    delivery::Deliverer d(ioc.get_executor(), options, metrics, [](std::uint64_t b) { return b; });
    return run(d, std::move(batch));
  }

  double events(std::string_view r) { return metrics.events(r).Value(); }
  double attempts(std::string_view r) { return metrics.delivery_attempts(r).Value(); }

  std::multiset<std::string> received_ids() const {
    std::multiset<std::string> ids;
    for (const auto& r : sink.received()) {
      auto it = r.find("ce-id");
      if (it != r.end()) ids.insert(std::string(it->value()));
    }
    return ids;
  }

  void check_no_secret_in_logs() const {
    for (const auto& l : log_lines) {
      CHECK_MESSAGE(l.find("very-secret-token") == std::string::npos, l);
    }
  }
};

}  // namespace

TEST_CASE("deliverer: binary mode, every event delivered once, headers on every request") {
  Harness h;
  const auto batch = make_many(20);
  const auto r = h.deliver(batch);
  CHECK(r == delivery::DeliveryResult{20, 0, 0});
  CHECK(r.settled());
  REQUIRE(h.sink.received().size() == 20);
  CHECK(h.sink.connections() <= 2);  // keep-alive pool of `concurrency` connections
  for (const auto& req : h.sink.received()) {
    CHECK(req.target() == "/events");
    CHECK(req.at("authorization") == kSecretHeader);
    CHECK(req.at("x-tenant") == "t1");
    CHECK(req.at("content-type") == "application/json");
    CHECK(req.at("ce-specversion") == "1.0");
    CHECK(req.count("ce-datacontenttype") == 0);
    const int i = std::stoi(std::string(req.at("ce-id").substr(3)));
    CHECK(req.body() == batch[static_cast<std::size_t>(i)].data);
    CHECK(test::percent_decode(req.at("ce-subject")) == batch[static_cast<std::size_t>(i)].subject);
    CHECK(req.at("ce-estimated") == (i % 2 == 0 ? "true" : "false"));
  }
  std::multiset<std::string> expected;
  for (const auto& e : batch)
    expected.insert(e.id);
  CHECK(h.received_ids() == expected);
  CHECK(h.events("delivered") == 20);
  CHECK(h.attempts("success") == 20);
  CHECK(h.metrics.deliveries_in_flight().Value() == 0);
  CHECK(h.metrics.serialize().find("aws_billing_source_delivery_duration_seconds_count 20") !=
        std::string::npos);
  h.check_no_secret_in_logs();
}

TEST_CASE("deliverer: fails N times with 500/503/408 then succeeds; nothing lost") {
  Harness h;
  // Each event fails its first three attempts, then is accepted.
  std::map<std::string, int> seen;
  h.sink.script = [&](const Received& r, std::size_t) {
    const int n = seen[std::string(r.at("ce-id"))]++;
    static const unsigned kStatuses[] = {500, 503, 408};
    return n < 3 ? reply(kStatuses[n]) : reply(202);
  };
  const auto r = h.deliver(make_many(10));
  CHECK(r == delivery::DeliveryResult{10, 0, 0});
  CHECK(h.sink.received().size() == 40);
  for (const auto& [id, n] : seen)
    CHECK(n == 4);
  CHECK(h.attempts("retryable_status") == 30);
  CHECK(h.attempts("success") == 10);
  CHECK(h.events("delivered") == 10);
  CHECK(h.events("failed") == 0);
  h.check_no_secret_in_logs();
}

TEST_CASE("deliverer: 429 with Retry-After is honoured") {
  Harness h;
  h.options.backoff.max_retry_after = milliseconds{1000};
  h.sink.script = [](const Received&, std::size_t i) {
    if (i == 0) return reply(429, {{"Retry-After", "1"}});
    if (i == 1) return reply(503, {{"Retry-After", "3600"}});  // capped to max_retry_after
    return reply(200);
  };
  const auto r = h.deliver({make(1)});
  CHECK(r == delivery::DeliveryResult{1, 0, 0});
  CHECK(h.sink.received().size() == 3);
  // The wait chosen is the Retry-After (the backoff alone would be at most 5 ms).
  int honoured = 0;
  for (const auto& l : h.log_lines) {
    if (l.find("delivery attempt failed") != std::string::npos &&
        l.find("1000") != std::string::npos)
      ++honoured;
  }
  CHECK(honoured == 2);
}

TEST_CASE("deliverer: 400 sends the event to the dead-letter file (0600), no retry") {
  Harness h;
  h.sink.script = [](const Received& r, std::size_t) {
    return r.at("ce-id") == "id-1" ? reply(400) : reply(200);
  };
  auto batch = make_many(3);
  batch[1] = make(1, "Bad \"quoted\"/name é 100%\r\nX-Evil: 1");
  const auto r = h.deliver(batch);
  CHECK(r == delivery::DeliveryResult{2, 1, 0});
  CHECK(r.settled());  // the day may move on
  CHECK(h.sink.received().size() == 3);
  CHECK(h.attempts("permanent_status") == 1);
  CHECK(h.events("dead_lettered") == 1);
  const auto path = h.state / "dead-letter.jsonl";
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(path);
  std::string line;
  REQUIRE(std::getline(in, line));
  events::Event back;
  std::string error;
  REQUIRE_MESSAGE(test::parse_structured(line, back, error), error);
  CHECK(back == batch[1]);
  CHECK_FALSE(std::getline(in, line));
  h.check_no_secret_in_logs();
}

TEST_CASE("deliverer: a connection closed mid-response and a stall past the timeout are retried") {
  Harness h;
  h.options.timeout = milliseconds{300};
  h.options.concurrency = 1;
  h.sink.script = [](const Received&, std::size_t i) {
    if (i == 0) return close_mid_response();
    if (i == 1) return test::stall();
    return reply(200);
  };
  const auto r = h.deliver({make(7)});
  CHECK(r == delivery::DeliveryResult{1, 0, 0});
  REQUIRE(h.sink.received().size() == 3);
  for (const auto& req : h.sink.received())
    CHECK(req.at("ce-id") == "id-7");
  CHECK(h.attempts("transport_error") == 2);
  CHECK(h.attempts("success") == 1);
  CHECK(h.sink.connections() == 3);
}

TEST_CASE("deliverer: attempts exhausted -> failed, exactly send_event_attempts requests") {
  Harness h;
  h.options.max_attempts = 3;
  h.sink.script = [](const Received&, std::size_t) { return reply(503); };
  const auto r = h.deliver(make_many(2));
  CHECK(r == delivery::DeliveryResult{0, 0, 2});
  CHECK_FALSE(r.settled());
  CHECK(h.sink.received().size() == 6);
  CHECK(h.events("failed") == 2);
  CHECK(h.attempts("retryable_status") == 6);
  CHECK_FALSE(fs::exists(h.state / "dead-letter.jsonl"));
}

TEST_CASE("deliverer: a refused connection is retried until the attempts run out") {
  Harness h;
  {
    asio::io_context other;
    tcp::acceptor a(other, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    h.options.target = "http://127.0.0.1:" + std::to_string(a.local_endpoint().port()) + "/";
  }  // closed: nothing listens there now
  h.options.max_attempts = 2;
  const auto r = h.deliver({make(1)});
  CHECK(r == delivery::DeliveryResult{0, 0, 1});
  CHECK(h.attempts("transport_error") == 2);
}

TEST_CASE("deliverer: stop() ends unbounded retries; unsettled events count as failed") {
  Harness h;
  h.options.max_attempts = 0;  // forever until stopped
  h.options.backoff = {milliseconds{20}, milliseconds{20}, milliseconds{20}};
  delivery::Deliverer d(h.ioc.get_executor(), h.options, h.metrics);
  h.sink.script = [&](const Received&, std::size_t i) {
    if (i == 5) d.stop();
    return reply(500);
  };
  const auto r = h.run(d, make_many(6));
  CHECK(d.stopped());
  CHECK(r.delivered == 0);
  CHECK(r.failed == 6);
  CHECK(h.sink.received().size() >= 6);
}

TEST_CASE("deliverer: structured mode bodies parse back to the events") {
  Harness h;
  h.options.mode = config::DeliveryMode::structured;
  auto batch = make_many(5);
  batch.push_back(make(5, "Überwachung \"x\" / 100%"));
  const auto r = h.deliver(batch);
  CHECK(r == delivery::DeliveryResult{6, 0, 0});
  std::vector<events::Event> back;
  for (const auto& req : h.sink.received()) {
    CHECK(req.at("content-type") == "application/cloudevents+json; charset=utf-8");
    CHECK(req.count("ce-id") == 0);
    events::Event e;
    std::string error;
    REQUIRE_MESSAGE(test::parse_structured(req.body(), e, error), error);
    back.push_back(e);
  }
  std::sort(back.begin(), back.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  CHECK(back == batch);
}

TEST_CASE(
    "deliverer: batch mode sends batch_size events per request; a 400 dead-letters them all") {
  Harness h;
  h.options.mode = config::DeliveryMode::batch;
  h.options.batch_size = 100;
  h.options.concurrency = 4;
  h.sink.script = [](const Received& r, std::size_t) {
    return r.body().find("\"id-200\"") != std::string::npos ? reply(422) : reply(200);
  };
  const auto batch = make_many(250);
  const auto r = h.deliver(batch);
  CHECK(r == delivery::DeliveryResult{200, 50, 0});
  REQUIRE(h.sink.received().size() == 3);
  std::vector<events::Event> all;
  for (const auto& req : h.sink.received()) {
    CHECK(req.at("content-type") == "application/cloudevents-batch+json");
    std::vector<events::Event> part;
    std::string error;
    REQUIRE_MESSAGE(test::parse_batch(req.body(), part, error), error);
    CHECK((part.size() == 100 || part.size() == 50));
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::stoi(a.id.substr(3)) < std::stoi(b.id.substr(3));
  });
  CHECK(all == batch);
  std::ifstream in(h.state / "dead-letter.jsonl");
  int lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  CHECK(lines == 50);
}

TEST_CASE("deliverer: bad options are clear errors") {
  asio::io_context ioc;
  metrics::Metrics m;
  delivery::DelivererOptions o;
  o.target = "ftp://example.invalid/";
  CHECK_THROWS_AS(delivery::Deliverer(ioc.get_executor(), o, m), std::invalid_argument);
  o.target = "http://127.0.0.1:1/";
  o.headers = {{"Bad Name", "x"}};
  CHECK_THROWS_AS(delivery::Deliverer(ioc.get_executor(), o, m), std::invalid_argument);
  o.headers = {{"X-Ok", "line\r\nX-Injected: 1"}};
  try {
    delivery::Deliverer d(ioc.get_executor(), o, m);
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("Injected") == std::string::npos);  // value never echoed
  }
  o.headers = {};
  o.target = "https://127.0.0.1:1/";
  o.tls.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_AS(delivery::Deliverer(ioc.get_executor(), o, m), std::runtime_error);
}

TEST_CASE("deliverer: an empty batch is settled at once; the dry-run sink reports delivered") {
  Harness h;
  CHECK(h.deliver({}) == delivery::DeliveryResult{});
  CHECK(h.sink.received().empty());

  std::ostringstream out;
  delivery::DryRunSink dry(out);
  const auto result = test::run_coroutine(h.ioc, dry.deliver(make_many(3)), seconds{5});
  CHECK(result == delivery::DeliveryResult{3, 0, 0});
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);
}

TEST_CASE("deliverer: a cancelled deliver() ends; its events count as failed, never delivered") {
  Harness h;
  h.options.timeout = seconds{5};
  h.options.concurrency = 2;
  h.sink.script = [](const Received&, std::size_t) { return test::stall(); };
  delivery::Deliverer d(h.ioc.get_executor(), h.options, h.metrics);
  std::size_t winner = 99;
  auto scenario = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(h.ioc, milliseconds{100});
    auto r =
        co_await (d.deliver(make_many(5)) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    winner = r.index();
  };
  test::run_coroutine(h.ioc, scenario());
  CHECK(winner == 1);
  CHECK(h.events("delivered") == 0);
  CHECK(h.events("failed") == 5);
  CHECK(h.metrics.deliveries_in_flight().Value() == 0);
}

TEST_CASE("deliverer: a 2xx with a 2 MiB body is an acknowledgement (Content-Length and chunked)") {
  for (auto framing : {test::Framing::content_length, test::Framing::chunked}) {
    CAPTURE(static_cast<int>(framing));
    Harness h;
    h.options.concurrency = 1;
    // A 2 MiB answer (over the 1 MiB limit); the client may close before it is all written.
    h.sink.script = [framing](const Received&, std::size_t) {
      return test::streamed({{"Content-Type", "text/plain"}}, framing);
    };
    const auto r = h.deliver(make_many(3));
    CHECK(r == delivery::DeliveryResult{3, 0, 0});
    CHECK(h.sink.received().size() == 3);  // no retry
    CHECK(h.attempts("success") == 3);
    CHECK(h.attempts("transport_error") == 0);
    CHECK(h.events("delivered") == 3);
    // The unread rest of a body makes a connection unusable: one per request.
    CHECK(h.sink.connections() == 3);
  }
}

namespace {

// Whether every hop of a request carried the same headers and body (ce-id too, in binary mode).
void check_same_request(const Received& a, const Received& b) {
  for (const char* name : {"authorization", "x-tenant", "content-type", "ce-id", "user-agent"}) {
    CAPTURE(name);
    CHECK(a.count(name) == b.count(name));
    if (a.count(name) != 0 && b.count(name) != 0) {
      CHECK(a.at(name) == b.at(name));
    }
  }
}

}  // namespace

TEST_CASE("deliverer: 307 and 308 are followed with the same request, Host and target the hop's") {
  for (auto mode : {config::DeliveryMode::binary, config::DeliveryMode::structured,
                    config::DeliveryMode::batch}) {
    CAPTURE(config::to_string(mode));
    Harness h;
    test::FakeHttpServer other(h.ioc);
    h.options.mode = mode;
    h.options.batch_size = 4;
    // /events -> 307 relative, same origin -> 308 absolute, another origin -> 200 there.
    h.sink.script = [&](const Received& r, std::size_t) {
      if (r.target() == "/events") return reply(307, {{"Location", "moved?step=2"}});
      if (r.target() == "/moved?step=2") return reply(308, {{"Location", other.base() + "/final"}});
      return reply(500);
    };
    const auto batch = make_many(10);
    const auto r = h.deliver(batch);
    const std::size_t requests = mode == config::DeliveryMode::batch ? 3 : 10;
    CHECK(r == delivery::DeliveryResult{10, 0, 0});
    CHECK(r.target_problem.empty());
    REQUIRE(h.sink.received().size() == 2 * requests);
    REQUIRE(other.received().size() == requests);
    CHECK(h.sink.connections() <= 2);  // the same-origin hop reuses the worker's connection
    CHECK(other.connections() <= 2);   // the other origin has keep-alive connections of its own
    for (const auto& req : h.sink.received())
      CHECK(req.at("host") == h.sink.host());
    // Workers interleave: hops of one request are matched by body (unique per request).
    std::map<std::string, std::vector<const Received*>> hops;
    for (const auto& req : h.sink.received())
      hops[req.body()].push_back(&req);
    for (const auto& req : other.received()) {
      CHECK(req.target() == "/final");
      CHECK(req.at("host") == other.host());
      CHECK(req.at("authorization") == kSecretHeader);
      hops[req.body()].push_back(&req);
    }
    REQUIRE(hops.size() == requests);
    for (const auto& [body, seen] : hops) {
      REQUIRE(seen.size() == 3);
      CHECK(seen[0]->target() == "/events");
      CHECK(seen[1]->target() == "/moved?step=2");
      check_same_request(*seen[0], *seen[1]);
      check_same_request(*seen[0], *seen[2]);
    }
    CHECK(h.attempts("redirected") == 2 * requests);
    CHECK(h.attempts("success") == requests);
    CHECK(h.attempts("misconfigured") == 0);
    h.check_no_secret_in_logs();
  }
}

TEST_CASE("deliverer: a 5xx behind a redirect is retried from the target") {
  Harness h;
  h.options.concurrency = 1;
  int finals = 0;
  h.sink.script = [&](const Received& r, std::size_t) {
    if (r.target() == "/events") return reply(307, {{"Location", "/b"}});
    return ++finals == 1 ? reply(503) : reply(200);
  };
  const auto r = h.deliver({make(1)});
  CHECK(r == delivery::DeliveryResult{1, 0, 0});
  REQUIRE(h.sink.received().size() == 4);
  CHECK(h.sink.received()[2].target() == "/events");
  CHECK(h.attempts("retryable_status") == 1);
}

TEST_CASE("deliverer: a 302 is a misconfigured target: nothing dead-lettered, no retry, logged") {
  Harness h;
  h.options.concurrency = 2;
  h.sink.script = [](const Received&, std::size_t) {
    return reply(302, {{"Location", "http://admin:pw-very-secret-token@127.0.0.1:1/login"}});
  };
  const auto r = h.deliver(make_many(10));
  CHECK(r == delivery::DeliveryResult{0, 0, 10});
  CHECK_FALSE(r.settled());
  CHECK(r.failed_at.size() == 10);
  CHECK(
      r.target_problem ==
      "target answered HTTP 302 (redirect to http://127.0.0.1:1/login): not followed; fix target");
  // One answer per worker at most: the call sends nothing more once the target needs a fix.
  CHECK(h.sink.received().size() >= 1);
  CHECK(h.sink.received().size() <= 2);
  CHECK(h.attempts("misconfigured") == static_cast<double>(h.sink.received().size()));
  CHECK(h.attempts("redirected") == 0);
  CHECK(h.attempts("permanent_status") == 0);
  CHECK(h.events("failed") == 10);
  CHECK(h.events("dead_lettered") == 0);
  CHECK_FALSE(fs::exists(h.state / "dead-letter.jsonl"));
  bool logged = false;
  for (const auto& l : h.log_lines) {
    if (l.find("302") != std::string::npos &&
        l.find("http://127.0.0.1:1/login") != std::string::npos)
      logged = true;
  }
  CHECK(logged);
  h.check_no_secret_in_logs();  // the Location's userinfo is not logged
  // The problem is kept when results add up; a later result without one keeps it.
  delivery::DeliveryResult sum;
  sum += r;
  sum += delivery::DeliveryResult{1, 0, 0};
  CHECK(sum.target_problem == r.target_problem);
}

TEST_CASE("deliverer: other 3xx and a 307 without Location are misconfigured, never dead letters") {
  for (unsigned status : {300u, 301u, 303u, 304u, 307u, 308u}) {
    CAPTURE(status);
    Harness h;
    h.sink.script = [status](const Received&, std::size_t) {
      if (status == 304 || status >= 307) return reply(status);
      return reply(status, {{"Location", "/elsewhere"}});
    };
    const auto r = h.deliver({make(1)});
    CHECK(r == delivery::DeliveryResult{0, 0, 1});
    CHECK(h.sink.received().size() == 1);
    CHECK(h.attempts("misconfigured") == 1);
    CHECK(r.target_problem.starts_with("target answered HTTP " + std::to_string(status)));
    CHECK_FALSE(fs::exists(h.state / "dead-letter.jsonl"));
  }
}

TEST_CASE("deliverer: a redirect loop stops after 5 hops") {
  Harness h;
  h.options.concurrency = 1;
  h.sink.script = [](const Received&, std::size_t) {
    return reply(307, {{"Location", "/events"}});
  };
  const auto r = h.deliver(make_many(3));
  CHECK(r == delivery::DeliveryResult{0, 0, 3});
  CHECK(h.sink.received().size() == 6);  // the request and its 5 redirects; the other units wait
  CHECK(h.attempts("redirected") == 5);
  CHECK(h.attempts("misconfigured") == 1);
  CHECK(r.target_problem ==
        "target answered HTTP 307 (redirect to /events): not followed after 5 redirects; fix "
        "target");
}

TEST_CASE("deliverer: options from the config keys") {
  config::Config c;
  c.target = "https://sink.example/ce";
  c.send_event_attempts = 7;
  c.state_dir = "/var/lib/x";
  c.delivery.mode = config::DeliveryMode::batch;
  c.delivery.batch_size = 33;
  c.delivery.concurrency = 9;
  c.delivery.timeout = milliseconds{1500};
  c.delivery.headers = {{"Authorization", "Bearer x"}};
  c.delivery.ca_file = "ca.pem";
  c.delivery.insecure_skip_verify = true;
  const auto o = delivery::DelivererOptions::from_config(c);
  CHECK(o.target == c.target);
  CHECK(o.max_attempts == 7);
  CHECK(o.state_dir == "/var/lib/x");
  CHECK(o.mode == config::DeliveryMode::batch);
  CHECK(o.batch_size == 33);
  CHECK(o.concurrency == 9);
  CHECK(o.timeout == milliseconds{1500});
  CHECK(o.headers == c.delivery.headers);
  CHECK(o.tls.ca_file == "ca.pem");
  CHECK(o.tls.insecure_skip_verify);
}
