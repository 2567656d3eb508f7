// net::HttpClient against in-process peers for what a real server does not do on demand: accept
// and never answer (per-operation cancellation must end the exchange at once), and a 200 with a
// body over the caller's limit (dropped or an error, as the caller asks).

#include "net/http_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "support/fake_http_server.hpp"
#include "support/run_coroutine.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace sab::net;
namespace test = sab::test;
using namespace std::chrono;

namespace {

Request post(std::string target) {
  Request req{http::verb::post, target, 11};
  req.set(http::field::content_type, "application/json");
  req.body() = "{}";
  return req;
}

}  // namespace

TEST_CASE("http client: a cancelled send ends at once with operation_aborted, in every step") {
  enum When { before_start, waiting_for_answer, in_tls_handshake };
  for (When when : {before_start, waiting_for_answer, in_tls_handshake}) {
    CAPTURE(static_cast<int>(when));
    asio::io_context ioc;
    // Accepts connections and keeps them open without a byte of answer (not even a TLS
    // ServerHello).
    test::FakeHttpServer peer(ioc, test::FakeHttpServer::silent);
    const std::string scheme = when == in_tls_handshake ? "https" : "http";
    auto url = parse_url(scheme + "://" + peer.host() + "/events");
    REQUIRE(url);
    HttpClient client(ioc.get_executor(), *url, make_client_tls_context({}));
    asio::cancellation_signal signal;
    asio::steady_timer timer(ioc, milliseconds{100});
    if (when == before_start) {
      // Runs first, once the coroutine is spawned and before it starts.
      asio::post(ioc, [&] { signal.emit(asio::cancellation_type::terminal); });
    } else {
      timer.async_wait([&](boost::system::error_code) {
        CHECK(peer.connections() == 1);  // the request is in flight
        signal.emit(asio::cancellation_type::terminal);
      });
    }
    std::exception_ptr error;
    bool answered = false;
    const auto started = steady_clock::now();
    try {
      test::run_coroutine(
          ioc,
          [&]() -> asio::awaitable<void> {
            (void)co_await client.send(post("/events"), seconds{10}, 1024);
            answered = true;
          },
          seconds{15}, signal.slot());
    } catch (const std::exception&) {
      error = std::current_exception();
    }
    const steady_clock::duration took = steady_clock::now() - started;
    CHECK_FALSE(answered);
    CHECK(took < seconds{2});  // well before the 10 s timeout
    REQUIRE(error);
    bool aborted = false;
    try {
      std::rethrow_exception(error);
    } catch (const TransportError& e) {
      FAIL("a TransportError instead of operation_aborted: " << e.what());
    } catch (const boost::system::system_error& e) {
      aborted = e.code() == asio::error::operation_aborted;
    }
    CHECK(aborted);
  }
}

TEST_CASE("http client: a body over the limit is dropped or an error, as the caller asks") {
  for (bool chunked : {false, true}) {
    CAPTURE(chunked);
    asio::io_context ioc;
    // Answers every request with a 200 and a 2 MiB body, with a Content-Length or chunked.
    test::FakeHttpServer peer(ioc);
    peer.script = [chunked](const test::FakeHttpServer::Request&, std::size_t) {
      return test::streamed({{"X-Answer", "big"}},
                            chunked ? test::Framing::chunked : test::Framing::content_length);
    };
    auto url = parse_url(peer.url("/"));
    REQUIRE(url);
    HttpClient client(ioc.get_executor(), *url, nullptr);
    std::vector<Response> answers;
    std::string error;
    TransportErrorKind kind = TransportErrorKind::protocol;
    test::run_coroutine(
        ioc,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < 2; ++i) {
            answers.push_back(
                co_await client.send(post("/"), seconds{10}, 1024 * 1024, OversizedBody::drop));
          }
          try {
            (void)co_await client.send(post("/"), seconds{10}, 1024 * 1024);
          } catch (const TransportError& e) {
            error = e.what();
            kind = e.kind();
          }
        },
        seconds{20});
    REQUIRE(answers.size() == 2);
    for (const auto& a : answers) {
      CHECK(a.result_int() == 200);
      CHECK(a["X-Answer"] == "big");
      CHECK(a.body().empty());
    }
    CHECK(peer.connections() == 3);  // a dropped body leaves the connection unusable: closed
    CHECK(kind == TransportErrorKind::too_large);  // the default: oversized is an error
    CHECK(error.find("exceeds") != std::string::npos);
  }
}
