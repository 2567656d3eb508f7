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
#include <system_error>

#include "common/log.hpp"
#include "common/task_group.hpp"
#include "common/tasks.hpp"

namespace sab::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The sessions run in a task group: stop() cancels what each awaits, and each session's frame
// owns its stream, so nothing else points at a connection.
struct HttpServer::Impl {
  asio::io_context& io;
  ServerOptions options;
  ServerHandlers handlers;
  tcp::acceptor acceptor;
  common::TaskGroup sessions;
  bool stopped = false;

  Impl(asio::io_context& i, ServerOptions o, ServerHandlers h)
      : io(i),
        options(std::move(o)),
        handlers(std::move(h)),
        acceptor(i),
        sessions(i.get_executor()) {}

  asio::awaitable<void> session(tcp::socket socket) {
    // A cancelled read or write ends the loop below; nothing is thrown at stop().
    co_await asio::this_coro::throw_if_cancelled(false);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(options.max_request_bytes);
    while (!stopped) {
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
      if (sessions.size() >= options.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      sessions.spawn("http_server", session(std::move(socket)), handlers.task_failed);
    }
  }
};

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, ServerHandlers handlers)
    : impl_(std::make_unique<Impl>(io, std::move(options), std::move(handlers))) {}

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
  // The accept loop is not one of the sessions (they are counted against max_connections).
  asio::co_spawn(d.io, d.accept_loop(), [&d](const std::exception_ptr& e) {
    common::log_task_failure("http_server", e, d.handlers.task_failed);
  });
}

void HttpServer::stop() {
  auto& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  boost::system::error_code ignored;
  d.acceptor.close(ignored);
  d.sessions.emit(asio::cancellation_type::terminal);
}

asio::ip::tcp::endpoint HttpServer::local_endpoint() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec);
}

}  // namespace sab::net
