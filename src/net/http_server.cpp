#include "net/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <list>
#include <system_error>

#include "common/log.hpp"
#include "common/tasks.hpp"

namespace sab::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  ServerOptions options;
  ServerHandlers handlers;
  tcp::acceptor acceptor;
  std::list<beast::tcp_stream*> connections;
  bool stopped = false;

  Impl(asio::io_context& i, ServerOptions o, ServerHandlers h)
      : io(i), options(std::move(o)), handlers(std::move(h)), acceptor(i) {}

  asio::awaitable<void> session(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    auto registration = connections.insert(connections.end(), &stream);
    struct Unregister {
      Impl& impl;
      std::list<beast::tcp_stream*>::iterator it;
      ~Unregister() { impl.connections.erase(it); }
    } unregister{*this, registration};

    beast::flat_buffer buffer(options.max_request_bytes);
    for (;;) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_request_bytes));
      parser.body_limit(0);
      // The whole request (slow clients included) must arrive within the read timeout.
      stream.expires_after(options.read_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, common::nothrow);
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
        break;
      }
      if (ec) {
        const bool too_big = ec == http::error::header_limit || ec == http::error::body_limit ||
                             ec == http::error::buffer_overflow;
        auto res = error_response(too_big);
        stream.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, res, common::nothrow);
        break;
      }
      auto res = route(parser.get(), handlers);
      stream.expires_after(options.read_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, common::nothrow);
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(common::nothrow);
      if (stopped || ec == asio::error::operation_aborted) break;
      if (ec) {
        // Out of descriptors and the like: log, pause briefly, go on.
        log::warn("http server: accept failed", {{"error", ec.message()}});
        asio::steady_timer pause(io, std::chrono::milliseconds(100));
        co_await pause.async_wait(common::nothrow);
        continue;
      }
      if (connections.size() >= options.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      asio::co_spawn(io, session(std::move(socket)), [this, self](const std::exception_ptr& e) {
        common::log_task_failure("http_server", e, handlers.task_failed);
      });
    }
  }
};

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, ServerHandlers handlers)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handlers))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  auto& d = *impl_;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(d.options.host, ec);
  if (ec) {
    // A host name: resolve it once, synchronously, at start-up.
    tcp::resolver resolver(d.io);
    auto results = resolver.resolve(d.options.host, std::to_string(d.options.port), ec);
    if (ec || results.empty()) {
      throw std::system_error(ec, "listen: cannot resolve '" + d.options.host + "'");
    }
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint{address, d.options.port};
  const std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  d.acceptor.open(endpoint.protocol(), ec);
  if (!ec) d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(endpoint, ec);
  if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, "listen on " + where);
  auto self = impl_;
  asio::co_spawn(d.io, d.accept_loop(), [self](const std::exception_ptr& e) {
    common::log_task_failure("http_server", e, self->handlers.task_failed);
  });
}

void HttpServer::stop() {
  auto& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  boost::system::error_code ignored;
  d.acceptor.close(ignored);
  for (auto* stream : d.connections)
    stream->socket().close(ignored);
}

asio::ip::tcp::endpoint HttpServer::local_endpoint() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec);
}

}  // namespace sab::net
