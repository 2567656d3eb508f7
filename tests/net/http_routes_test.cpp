#include "net/http_routes.hpp"

#include <doctest/doctest.h>

using namespace sab::net;
namespace http = boost::beast::http;

namespace {
ServerResponse call(http::verb method, std::string target, ServerHandlers handlers = {}) {
  ServerRequest req{method, target, 11};
  return route(req, handlers);
}
}  // namespace

TEST_CASE("routes: the three endpoints, 404 and 405") {
  std::vector<std::string> counted;
  ServerHandlers h{[] { return std::string("m 1\n"); }, [] { return std::string(); },
                   [&](std::string_view p) { counted.emplace_back(p); }, nullptr, nullptr};
  CHECK(call(http::verb::get, "/healthz", h).result() == http::status::ok);
  CHECK(call(http::verb::get, "/readyz", h).body() == "ready\n");
  auto metrics = call(http::verb::get, "/metrics?x=1", h);
  CHECK(metrics.body() == "m 1\n");
  CHECK(metrics[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(call(http::verb::get, "/nope", h).result() == http::status::not_found);
  auto post = call(http::verb::post, "/healthz", h);
  CHECK(post.result() == http::status::method_not_allowed);
  CHECK(post[http::field::allow] == "GET, HEAD");
  auto head = call(http::verb::head, "/healthz", h);
  CHECK(head.body().empty());
  CHECK(head[http::field::content_length] == "3");
  CHECK(counted == std::vector<std::string>{"/healthz", "/readyz", "/metrics", "other", "/healthz",
                                            "/healthz"});
}

TEST_CASE("routes: not ready answers 503 with a one-line reason") {
  ServerHandlers h{nullptr, [] { return std::string("last pull failed:\nthrottled"); }, nullptr,
                   nullptr, [] { return std::string("forecast: failed"); }};
  auto res = call(http::verb::get, "/readyz", h);
  CHECK(res.result() == http::status::service_unavailable);
  CHECK(res.body() == "last pull failed: throttled\n");
}

TEST_CASE("routes: a warning shows under ready without failing readiness") {
  ServerHandlers h{nullptr, [] { return std::string(); }, nullptr, nullptr,
                   [] { return std::string("forecast: HTTP 400\nDataUnavailableException"); }};
  auto res = call(http::verb::get, "/readyz", h);
  CHECK(res.result() == http::status::ok);
  CHECK(res.body() == "ready\nwarning: forecast: HTTP 400 DataUnavailableException\n");
  h.warnings = [] { return std::string(); };
  CHECK(call(http::verb::get, "/readyz", h).body() == "ready\n");
}

TEST_CASE("routes: parse errors close the connection") {
  CHECK(error_response(true).result() == http::status::payload_too_large);
  CHECK(error_response(false).result() == http::status::bad_request);
  CHECK_FALSE(error_response(false).keep_alive());
}
