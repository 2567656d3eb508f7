#pragma once

// The small HTTP server for /healthz, /readyz and /metrics: one coroutine per connection,
// bounded requests and connections, stopped by cancelling its sessions.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/http_routes.hpp"

namespace sab::net {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  std::chrono::milliseconds read_timeout{10'000};  // a whole request must arrive within this
  std::size_t max_request_bytes = kMaxRequestHeaderBytes;  // header block; no bodies accepted
  std::size_t max_connections = 1024;
};

// The service's own endpoints: /healthz, /readyz, /metrics. Plain HTTP/1.1 with keep-alive.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, ServerHandlers handlers);
  ~HttpServer();

  // Binds and listens; throws std::system_error naming the address when that fails.
  void start();
  // Stops accepting and closes every open connection.
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  struct Impl;
  // The coroutines point at it: the server must outlive the io_context's run (as in the service).
  std::unique_ptr<Impl> impl_;
};

}  // namespace sab::net
