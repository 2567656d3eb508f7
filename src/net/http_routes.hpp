#pragma once

// The service's own endpoints as a pure function of a parsed request (no I/O), so the routing
// can be tested and fuzzed without sockets.

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <functional>
#include <string>

namespace sab::net {

struct ServerHandlers {
  std::function<std::string()> metrics_text;
  // Empty when ready; else the one-line reason for 503.
  std::function<std::string()> not_ready_reason;
  // Counts a request by path ("/healthz", "/readyz", "/metrics" or "other"); may be empty.
  std::function<void(std::string_view path)> count;
  // Counts a connection or accept task that failed (it is logged already); may be empty.
  std::function<void()> task_failed;
  // Empty when all is well; else one line of trouble that does not make the service unready
  // (a failed forecast), shown under "ready" on /readyz. May be empty.
  std::function<std::string()> warnings;
};

inline constexpr std::size_t kMaxRequestHeaderBytes = std::size_t{8} * 1024;

using ServerRequest = boost::beast::http::request<boost::beast::http::empty_body>;
using ServerResponse = boost::beast::http::response<boost::beast::http::string_body>;

// GET/HEAD /healthz, /readyz, /metrics; 405 with Allow for other methods there; 404 elsewhere.
ServerResponse route(const ServerRequest& request, const ServerHandlers& handlers);

// The answer to a request that could not be parsed (too large: 413; else 400); closes.
ServerResponse error_response(bool too_large);

}  // namespace sab::net
