#include "net/http_routes.hpp"

namespace sab::net {
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kPlain = "text/plain; charset=utf-8";

void set_text(ServerResponse& res, http::status status, std::string body, std::string_view type) {
  res.result(status);
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// /readyz: 200 (with a "warning: ..." line when there is one), or 503 with the reason on one line
// whatever it holds.
void set_readiness(ServerResponse& res, const std::string& reason, const std::string& warning) {
  if (reason.empty()) {
    set_text(
        res, http::status::ok,
        warning.empty() ? std::string("ready\n") : "ready\nwarning: " + one_line(warning) + "\n",
        kPlain);
    return;
  }
  set_text(res, http::status::service_unavailable, one_line(reason) + "\n", kPlain);
}

}  // namespace

ServerResponse route(const ServerRequest& req, const ServerHandlers& handlers) {
  ServerResponse res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "source-aws-billing");
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (handlers.count) handlers.count(known ? path : "other");
  const bool readable = req.method() == http::verb::get || req.method() == http::verb::head;
  if (!known) {
    set_text(res, http::status::not_found, "not found\n", kPlain);
  } else if (!readable) {
    set_text(res, http::status::method_not_allowed, "method not allowed\n", kPlain);
    res.set(http::field::allow, "GET, HEAD");
  } else if (path == "/healthz") {
    set_text(res, http::status::ok, "ok\n", kPlain);
  } else if (path == "/readyz") {
    set_readiness(res, handlers.not_ready_reason ? handlers.not_ready_reason() : "",
                  handlers.warnings ? handlers.warnings() : "");
  } else {
    set_text(res, http::status::ok, handlers.metrics_text ? handlers.metrics_text() : "",
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
