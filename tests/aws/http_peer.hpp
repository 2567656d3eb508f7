#pragma once

// An in-process HTTP/1.1 peer on 127.0.0.1 for the metadata sources' unit tests: each request
// goes to a handler that answers it (or holds the connection without answering), and is recorded.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/http_client.hpp"

namespace sab::testing {

class HttpPeer {
 public:
  // nullopt: hold the connection and never answer.
  using Handler = std::function<std::optional<net::Response>(const net::Request&)>;

  HttpPeer(boost::asio::io_context& ioc, Handler handler)
      : acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        handler_(std::move(handler)) {
    boost::asio::co_spawn(ioc, accept_loop(), boost::asio::detached);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  const std::vector<net::Request>& requests() const { return requests_; }

  static net::Response answer(unsigned status, std::string body) {
    net::Response res{static_cast<boost::beast::http::status>(status), 11};
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

 private:
  using Socket = boost::asio::ip::tcp::socket;

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] =
          co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      auto held = std::make_shared<Socket>(std::move(socket));
      boost::asio::co_spawn(acceptor_.get_executor(), serve(held), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> serve(std::shared_ptr<Socket> socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      net::Request req;
      auto [ec, n] = co_await boost::beast::http::async_read(
          *socket, buffer, req, boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      requests_.push_back(req);
      auto res = handler_(req);
      if (!res) {
        held_.push_back(socket);
        co_return;
      }
      res->keep_alive(req.keep_alive());
      auto [wec, w] = co_await boost::beast::http::async_write(
          *socket, *res, boost::asio::as_tuple(boost::asio::use_awaitable));
      if (wec) co_return;
    }
  }

  boost::asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  std::vector<net::Request> requests_;
  std::vector<std::shared_ptr<Socket>> held_;
};

// Runs `task` on `ioc` (with whatever peers live there) until it completes; rethrows its error.
template <class T>
T run_until_done(boost::asio::io_context& ioc, boost::asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) out = std::move(value);
    done = true;
  });
  while (!done && ioc.run_one_for(std::chrono::seconds(30)) > 0) {
  }
  if (error) std::rethrow_exception(error);
  if (!out) throw std::runtime_error("the task did not complete");
  return std::move(*out);
}

}  // namespace sab::testing
