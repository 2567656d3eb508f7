#include "net/http_routes.hpp"

namespace sab::net {
namespace http = boost::beast::http;

// NOLINTNEXTLINE(readability-function-cognitive-complexity): to be split into steps
ServerResponse route(const ServerRequest& req, const ServerHandlers& handlers) {
  ServerResponse res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "source-aws-billing");
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (handlers.count) handlers.count(known ? path : "other");
  auto text = [&](http::status status, std::string body, std::string_view type) {
    res.result(status);
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
  };
  constexpr std::string_view kPlain = "text/plain; charset=utf-8";
  if (!known) {
    text(http::status::not_found, "not found\n", kPlain);
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    text(http::status::method_not_allowed, "method not allowed\n", kPlain);
    res.set(http::field::allow, "GET, HEAD");
  } else if (path == "/healthz") {
    text(http::status::ok, "ok\n", kPlain);
  } else if (path == "/readyz") {
    std::string reason = handlers.not_ready_reason ? handlers.not_ready_reason() : "";
    if (reason.empty()) {
      text(http::status::ok, "ready\n", kPlain);
    } else {
      // One line, whatever the reason holds.
      for (char& c : reason) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      text(http::status::service_unavailable, reason + "\n", kPlain);
    }
  } else {
    text(http::status::ok, handlers.metrics_text ? handlers.metrics_text() : "",
         "text/plain; version=0.0.4; charset=utf-8");
  }
  res.prepare_payload();
  if (req.method() == http::verb::head) {
    // Content-Length stays that of the GET answer; the body is not sent.
    res.body().clear();
  }
  return res;
}

ServerResponse error_response(bool too_large) {
  ServerResponse res{too_large ? http::status::payload_too_large : http::status::bad_request, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = too_large ? "request too large\n" : "bad request\n";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

}  // namespace sab::net
