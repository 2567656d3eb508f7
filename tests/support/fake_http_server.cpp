#include "support/fake_http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <iterator>
#include <string>

namespace sab::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string hex(std::size_t n) {
  char digits[2 * sizeof(std::size_t)];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), n, 16).ptr;
  return {digits, end};
}

// Writes a `stream` reply; false when the peer went away.
asio::awaitable<bool> write_stream(tcp::socket& socket, const Reply& reply) {
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                     std::string(http::obsolete_reason(static_cast<http::status>(reply.status))) +
                     "\r\n";
  for (const auto& [name, value] : reply.headers)
    head += name + ": " + value + "\r\n";
  const bool chunked = reply.framing == Framing::chunked;
  head += chunked
              ? "Transfer-Encoding: chunked\r\n\r\n"
              : "Content-Length: " + std::to_string(reply.pieces * reply.piece_size) + "\r\n\r\n";
  auto [hec, hn] = co_await asio::async_write(socket, asio::buffer(head), kTuple);
  if (hec) co_return false;
  const std::string chunk(reply.piece_size, 'x');
  for (std::size_t i = 0; i < reply.pieces; ++i) {
    if (reply.pause > std::chrono::steady_clock::duration::zero()) {
      asio::steady_timer timer(socket.get_executor(), reply.pause);
      co_await timer.async_wait(kTuple);
    }
    const std::string piece = chunked ? hex(reply.piece_size) + "\r\n" + chunk + "\r\n" : chunk;
    auto [bec, bn] = co_await asio::async_write(socket, asio::buffer(piece), kTuple);
    if (bec) co_return false;
  }
  if (chunked) {
    auto [eec, en] =
        co_await asio::async_write(socket, asio::buffer(std::string_view("0\r\n\r\n")), kTuple);
    if (eec) co_return false;
  }
  co_return true;
}

}  // namespace

Reply respond(unsigned status, Headers headers, std::string body) {
  Reply r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

Reply truncated(std::string raw) {
  Reply r;
  r.kind = Reply::Kind::truncate;
  r.body = std::move(raw);
  return r;
}

Reply reset_connection() {
  Reply r;
  r.kind = Reply::Kind::reset;
  return r;
}

Reply stall() {
  Reply r;
  r.kind = Reply::Kind::stall;
  return r;
}

Reply streamed(Headers headers, Framing framing, std::size_t pieces, std::size_t piece_size,
               std::chrono::steady_clock::duration pause) {
  Reply r;
  r.kind = Reply::Kind::stream;
  r.headers = std::move(headers);
  r.framing = framing;
  r.pieces = pieces;
  r.piece_size = piece_size;
  r.pause = pause;
  return r;
}

FakeHttpServer::FakeHttpServer(asio::io_context& ioc)
    : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      forever_(ioc, asio::steady_timer::time_point::max()) {
  asio::co_spawn(ioc, accept_loop(), asio::detached);
}

FakeHttpServer::FakeHttpServer(asio::io_context& ioc, Silent) : FakeHttpServer(ioc) {
  silent_ = true;
}

unsigned short FakeHttpServer::port() const {
  return acceptor_.local_endpoint().port();
}

std::string FakeHttpServer::host() const {
  return "127.0.0.1:" + std::to_string(port());
}

std::string FakeHttpServer::base() const {
  return "http://" + host();
}

std::string FakeHttpServer::url(const std::string& path) const {
  return base() + path;
}

asio::awaitable<void> FakeHttpServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) co_return;
    ++connections_;
    if (silent_) {
      held_.push_back(std::move(socket));
    } else {
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }
}

Reply FakeHttpServer::next(const Request& request) {
  if (replies.empty()) return script(request, received_.size() - 1);
  Reply reply = std::move(replies.front());
  replies.pop_front();
  return reply;
}

asio::awaitable<void> FakeHttpServer::serve(tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  boost::system::error_code ignored;
  for (;;) {
    Request request;
    auto [ec, n] = co_await http::async_read(socket, buffer, request, kTuple);
    if (ec) co_return;
    received_.push_back(std::move(request));
    const Reply reply = next(received_.back());
    switch (reply.kind) {
      case Reply::Kind::respond: {
        http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
        for (const auto& [name, value] : reply.headers)
          response.set(name, value);
        response.body() = reply.body;
        response.keep_alive(true);
        response.prepare_payload();
        auto [wec, wn] = co_await http::async_write(socket, response, kTuple);
        if (wec) co_return;
        break;
      }
      case Reply::Kind::truncate:
        co_await asio::async_write(socket, asio::buffer(reply.body), kTuple);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        co_return;
      case Reply::Kind::reset:
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        co_return;
      case Reply::Kind::stall:
        co_await forever_.async_wait(kTuple);
        co_return;
      case Reply::Kind::stream:
        if (!co_await write_stream(socket, reply)) co_return;
        break;
    }
  }
}

}  // namespace sab::test
