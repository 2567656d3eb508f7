// net::HttpClient against in-process peers for what a real server does not do on demand: accept
// and never answer (per-operation cancellation must end the exchange at once), and a 200 with a
// body over the caller's limit (dropped or an error, as the caller asks).

#include "net/http_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace sab::net;
using namespace std::chrono;

namespace {

// Accepts connections and keeps them open without a byte of answer (not even a TLS ServerHello).
class SilentPeer {
 public:
  explicit SilentPeer(asio::io_context& ioc)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::size_t accepted() const { return held_.size(); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      held_.push_back(std::move(socket));
    }
  }
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> held_;
};

// Answers every request with a 200 and a 2 MiB body, with a Content-Length or chunked.
class BigAnswerPeer {
 public:
  BigAnswerPeer(asio::io_context& ioc, bool chunked)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), chunked_(chunked) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::size_t connections = 0;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++connections;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] =
          co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      std::string head = "HTTP/1.1 200 OK\r\nX-Answer: big\r\n";
      head += chunked_ ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: 2097152\r\n\r\n";
      auto [hec, hn] = co_await asio::async_write(socket, asio::buffer(head),
                                                  asio::as_tuple(asio::use_awaitable));
      if (hec) co_return;
      const std::string chunk(64 * 1024, 'x');
      for (int i = 0; i < 32; ++i) {
        const std::string piece = chunked_ ? "10000\r\n" + chunk + "\r\n" : chunk;
        auto [bec, bn] = co_await asio::async_write(socket, asio::buffer(piece),
                                                    asio::as_tuple(asio::use_awaitable));
        if (bec) co_return;
      }
      if (chunked_) {
        auto [eec, en] =
            co_await asio::async_write(socket, asio::buffer(std::string_view("0\r\n\r\n")),
                                       asio::as_tuple(asio::use_awaitable));
        if (eec) co_return;
      }
    }
  }
  tcp::acceptor acceptor_;
  bool chunked_;
};

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
    SilentPeer peer(ioc);
    const std::string scheme = when == in_tls_handshake ? "https" : "http";
    auto url = parse_url(scheme + "://127.0.0.1:" + std::to_string(peer.port()) + "/events");
    REQUIRE(url);
    HttpClient client(ioc.get_executor(), *url, make_client_tls_context({}));
    asio::cancellation_signal signal;
    std::exception_ptr error;
    bool done = false;
    bool answered = false;
    const auto started = steady_clock::now();
    steady_clock::duration took{};
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          (void)co_await client.send(post("/events"), seconds{10}, 1024);
          answered = true;
        },
        asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) {
          error = e;
          done = true;
          took = steady_clock::now() - started;
          ioc.stop();
        }));
    asio::steady_timer timer(ioc, milliseconds{100});
    if (when == before_start) {
      signal.emit(asio::cancellation_type::terminal);
    } else {
      timer.async_wait([&](boost::system::error_code) {
        CHECK(peer.accepted() == 1);  // the request is in flight
        signal.emit(asio::cancellation_type::terminal);
      });
    }
    ioc.run_for(seconds{15});
    REQUIRE(done);
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
    BigAnswerPeer peer(ioc, chunked);
    auto url = parse_url("http://127.0.0.1:" + std::to_string(peer.port()) + "/");
    REQUIRE(url);
    HttpClient client(ioc.get_executor(), *url, nullptr);
    std::vector<Response> answers;
    std::string error;
    TransportErrorKind kind = TransportErrorKind::protocol;
    asio::co_spawn(
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
        [&](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
          ioc.stop();
        });
    ioc.run_for(seconds{20});
    REQUIRE(answers.size() == 2);
    for (const auto& a : answers) {
      CHECK(a.result_int() == 200);
      CHECK(a["X-Answer"] == "big");
      CHECK(a.body().empty());
    }
    CHECK(peer.connections == 3);  // a dropped body leaves the connection unusable: closed
    CHECK(kind == TransportErrorKind::too_large);  // the default: oversized is an error
    CHECK(error.find("exceeds") != std::string::npos);
  }
}
