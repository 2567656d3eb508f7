// CostExplorerClient against an in-process fake server (tests/support/fake_http_server.hpp):
// the cases no real peer produces on demand — throttling, 500, a truncated body, a reset
// connection, `__type` in its spellings, expired tokens, invalid paging tokens. Real signing
// against moto is checked by tests/integration/test_aws_moto.py.

#include "aws/ce_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include "common/log.hpp"
#include "metrics/metrics.hpp"
#include "support/fake_http_server.hpp"
#include "support/run_coroutine.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace sab;
using namespace std::chrono;

namespace {

constexpr const char* kKeyId = "AKIDFAKETEST";
constexpr const char* kSecret = "fake-secret-never-logged/+";

// Cost Explorer answers in JSON, as application/x-amz-json-1.1 unless `headers` say otherwise.
test::Reply status(unsigned s, std::string body, test::Headers headers = {}) {
  headers.insert(headers.begin(), {"Content-Type", "application/x-amz-json-1.1"});
  return test::respond(s, std::move(headers), std::move(body));
}
test::Reply ok(std::string body) {
  return status(200, std::move(body));
}
// A 200 whose body ends long before its Content-Length, then the connection closed.
test::Reply truncated() {
  return test::truncated(
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
      "Content-Length: 1000\r\n\r\n{\"ResultsByTime\":[{\"TimePeriod\":");
}
using test::reset_connection;

std::string page(const std::string& day, const std::string& service, const std::string& amount,
                 const std::string& token) {
  std::string s = R"({"GroupDefinitions":[{"Type":"DIMENSION","Key":"SERVICE"}],"ResultsByTime":[)"
                  R"({"TimePeriod":{"Start":")" +
                  day + R"(","End":"2023-01-16"},"Total":{},"Groups":[{"Keys":[")" + service +
                  R"("],"Metrics":{"UnblendedCost":{"Amount":")" + amount +
                  R"(","Unit":"USD"}}}],"Estimated":true}],"DimensionValueAttributes":[])";
  if (!token.empty()) s += R"(,"NextPageToken":")" + token + "\"";
  return s + "}";
}

// Counts get() and invalidate() calls; hands out fixed credentials.
class CountingProvider : public aws::CredentialProvider {
 public:
  asio::awaitable<aws::Credentials> get() override {
    ++gets;
    co_return aws::Credentials{kKeyId, kSecret, "session-token-" + std::to_string(invalidations),
                               std::nullopt};
  }
  void invalidate() override { ++invalidations; }
  int gets = 0;
  int invalidations = 0;
};

struct Harness {
  asio::io_context ioc;
  test::FakeHttpServer server{ioc};
  metrics::Metrics metrics;
  config::Config config;
  std::shared_ptr<CountingProvider> provider = std::make_shared<CountingProvider>();
  std::vector<std::vector<common::CostPeriod>> pages;
  std::vector<std::string> log_lines;

  Harness() {
    // Once the script runs out.
    server.script = [](const test::FakeHttpServer::Request&, std::size_t) {
      return status(500, "script exhausted");
    };
    config.endpoint = server.base();
    config.region = "us-east-1";
    log::set_sink([this](std::string_view line) { log_lines.emplace_back(line); });
  }
  ~Harness() { log::set_sink(nullptr); }

  aws::CostExplorerClient client(int max_retries = 6) {
    aws::CeClientOptions o;
    o.retry = {max_retries, milliseconds{1}, milliseconds{2}};
    o.random = [] { return 0.0; };
    o.request_timeout = seconds{10};
    return aws::CostExplorerClient(ioc.get_executor(), config, provider, metrics, o);
  }

  // Runs fetch to its end; rethrows its exception.
  void fetch(aws::CostExplorerClient& c) {
    const aws::TimePeriod period{sys_days{2023y / 1 / 15}, sys_days{2023y / 1 / 16}};
    test::run_coroutine(
        ioc, c.fetch(period, [this](std::vector<common::CostPeriod>&& p) -> asio::awaitable<void> {
          pages.push_back(std::move(p));
          co_return;
        }));
  }

  double count(std::string_view result) {
    return metrics.ce_requests("GetCostAndUsage", result).Value();
  }

  bool logs_mention(std::string_view s) const {
    for (const auto& l : log_lines) {
      if (l.find(s) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace

TEST_CASE("ce client: throttling, 500, truncated body and reset are retried; pages followed") {
  Harness h;
  auto& s = h.server.replies;
  s.push_back(status(400, R"({"__type":"LimitExceededException","message":"Rate exceeded"})"));
  s.push_back(status(500, R"({"__type":"InternalServerError"})"));
  s.push_back(truncated());
  s.push_back(reset_connection());
  s.push_back(ok(page("2023-01-15", "AWS Lambda", "1.5", "t2")));
  s.push_back(status(429, "slow down"));
  s.push_back(status(400, "{}", {{"x-amzn-ErrorType", "ThrottlingException:http://internal/"}}));
  s.push_back(status(400, R"({"__type":"com.amazonaws.ce#ThrottlingException"})"));
  s.push_back(ok(page("2023-01-15", "Amazon S3", "0.0000001", "t3")));
  s.push_back(status(503, "<html>unavailable</html>"));
  s.push_back(ok("{not json"));
  s.push_back(ok(page("2023-01-15", "Amazon EC2", "12", "")));
  auto c = h.client();
  h.fetch(c);

  REQUIRE(h.pages.size() == 3);
  CHECK(h.pages[0][0].groups[0].keys[0] == "AWS Lambda");
  CHECK(h.pages[0][0].groups[0].metrics[0].amount == "1.5");
  CHECK(h.pages[1][0].groups[0].metrics[0].amount == "0.0000001");
  CHECK(h.pages[2][0].groups[0].keys[0] == "Amazon EC2");
  CHECK(h.count("success") == 3);
  CHECK(h.count("throttled") == 4);
  CHECK(h.count("server_error") == 2);
  CHECK(h.count("transport_error") == 2);
  CHECK(h.count("bad_response") == 1);
  CHECK(c.requests_sent() == 12);
  REQUIRE(h.server.received().size() == 12);
  // Every request is a signed GetCostAndUsage; page tokens follow.
  for (const auto& r : h.server.received()) {
    CHECK(r.method() == http::verb::post);
    CHECK(r.target() == "/");
    CHECK(r[http::field::content_type] == "application/x-amz-json-1.1");
    CHECK(r["X-Amz-Target"] == "AWSInsightsIndexService.GetCostAndUsage");
    CHECK(r[http::field::authorization].starts_with("AWS4-HMAC-SHA256 Credential=AKIDFAKETEST/"));
    CHECK(r[http::field::authorization].find("/us-east-1/ce/aws4_request") != std::string::npos);
    CHECK(r["X-Amz-Security-Token"] == "session-token-0");
  }
  CHECK(h.server.received()[0].body().find("NextPageToken") == std::string::npos);
  CHECK(h.server.received()[5].body().find(R"("NextPageToken":"t2")") != std::string::npos);
  CHECK(h.server.received()[9].body().find(R"("NextPageToken":"t3")") != std::string::npos);
  CHECK_FALSE(h.logs_mention(kSecret));
}

TEST_CASE("ce client: auth errors fail at once, naming the access key id and not the secret") {
  for (const test::Reply& step :
       {status(400, R"({"__type":"UnrecognizedClientException","message":"bad token"})"),
        status(403, R"({"__type":"AccessDeniedException","Message":"denied"})"),
        status(403, "", {{"x-amzn-ErrorType", "InvalidClientTokenId:http://x/"}}),
        status(403,
               "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
               "signature we calculated does not match</Message></Error></ErrorResponse>",
               {{"Content-Type", "text/html; charset=utf-8"}})}) {
    Harness h;
    h.server.replies.push_back(step);
    auto c = h.client();
    try {
      h.fetch(c);
      FAIL("expected an auth error");
    } catch (const aws::CostExplorerError& e) {
      CHECK(e.kind() == aws::CeErrorKind::auth);
      const std::string what = e.what();
      CHECK(what.find(kKeyId) != std::string::npos);
      CHECK(what.find(kSecret) == std::string::npos);
      MESSAGE(what);
    }
    CHECK(c.requests_sent() == 1);
    CHECK(h.count("auth_error") == 1);
    CHECK_FALSE(h.logs_mention(kSecret));
  }
}

TEST_CASE("ce client: an expired token refreshes the credentials once") {
  Harness h;
  h.server.replies.push_back(status(400, R"({"__type":"ExpiredTokenException"})"));
  h.server.replies.push_back(ok(page("2023-01-15", "X", "1", "")));
  auto c = h.client();
  h.fetch(c);
  CHECK(h.provider->invalidations == 1);
  CHECK(h.server.received()[1]["X-Amz-Security-Token"] == "session-token-1");
  CHECK(h.pages.size() == 1);

  Harness h2;
  h2.server.replies.push_back(status(400, R"({"__type":"ExpiredTokenException"})"));
  h2.server.replies.push_back(status(400, R"({"__type":"ExpiredTokenException"})"));
  auto c2 = h2.client();
  CHECK_THROWS_AS(h2.fetch(c2), aws::CostExplorerError);
  CHECK(c2.requests_sent() == 2);
}

TEST_CASE("ce client: retries are bounded") {
  Harness h;
  for (int i = 0; i < 10; ++i)
    h.server.replies.push_back(status(503, "busy"));
  auto c = h.client(3);
  try {
    h.fetch(c);
    FAIL("expected a failure");
  } catch (const aws::CostExplorerError& e) {
    CHECK(e.kind() == aws::CeErrorKind::server);
    CHECK(std::string(e.what()).find("after 4 attempts") != std::string::npos);
  }
  CHECK(c.requests_sent() == 4);
  CHECK(h.count("server_error") == 4);
}

TEST_CASE("ce client: a complete answer that does not parse is retried once, not like a throttle") {
  // Every answer bad: 2 requests (each one billed), then the pull fails; each is counted.
  for (const std::string& body :
       {std::string(), std::string("<html><body>502 Bad Gateway</body></html>"),
        std::string(R"({"ResultsByTime":{"Start":"2023-01-15"}})"),
        std::string(
            R"({"ResultsByTime":[{"TimePeriod":{"Start":"2023-01-15","End":"2023-01-16"},)"
            R"("Groups":[{"Keys":["A"],"Metrics":{"UnblendedCost":{"Unit":"USD"}}}]}]})")}) {
    Harness h;
    for (int i = 0; i < 10; ++i)
      h.server.replies.push_back(ok(body));
    auto c = h.client();
    try {
      h.fetch(c);
      FAIL("expected a failure");
    } catch (const aws::CostExplorerError& e) {
      CHECK(e.kind() == aws::CeErrorKind::bad_response);
      CHECK(std::string(e.what()).find("after 2 attempts") != std::string::npos);
      MESSAGE(e.what());
    }
    CHECK(c.requests_sent() == 2);
    CHECK(h.server.received().size() == 2);
    CHECK(h.count("bad_response") == 2);
    CHECK(h.pages.empty());
    CHECK(h.logs_mention("Cost Explorer request failed; retrying"));
  }
  {
    // A bad answer, then a good one: the page is delivered.
    Harness h;
    h.server.replies.push_back(ok("{not json"));
    h.server.replies.push_back(ok(page("2023-01-15", "A", "1", "")));
    auto c = h.client();
    h.fetch(c);
    CHECK(h.pages.size() == 1);
    CHECK(c.requests_sent() == 2);
  }
  {
    // Transient failures around it keep their own retries; the second bad answer still ends it.
    Harness h;
    auto& s = h.server.replies;
    s.push_back(ok("{not json"));
    s.push_back(truncated());
    s.push_back(reset_connection());
    s.push_back(status(503, "busy"));
    s.push_back(ok("{not json"));
    s.push_back(ok(page("2023-01-15", "A", "1", "")));
    auto c = h.client();
    CHECK_THROWS_AS(h.fetch(c), aws::CostExplorerError);
    CHECK(c.requests_sent() == 5);
    CHECK(h.count("bad_response") == 2);
    CHECK(h.count("transport_error") == 2);
  }
  {
    // Each page has its own allowance: one bad answer on each of two pages is fine.
    Harness h;
    auto& s = h.server.replies;
    s.push_back(ok(""));
    s.push_back(ok(page("2023-01-15", "A", "1", "t2")));
    s.push_back(ok(""));
    s.push_back(ok(page("2023-01-15", "B", "2", "")));
    auto c = h.client();
    h.fetch(c);
    CHECK(h.pages.size() == 2);
    CHECK(c.requests_sent() == 4);
  }
}

TEST_CASE("ce client: truncated bodies and resets are still retried up to the bound") {
  Harness h;
  for (int i = 0; i < 3; ++i) {
    h.server.replies.push_back(truncated());
    h.server.replies.push_back(reset_connection());
  }
  h.server.replies.push_back(truncated());
  auto c = h.client();
  try {
    h.fetch(c);
    FAIL("expected a failure");
  } catch (const aws::CostExplorerError& e) {
    CHECK(e.kind() == aws::CeErrorKind::transport);
    CHECK(std::string(e.what()).find("after 7 attempts") != std::string::npos);
  }
  CHECK(c.requests_sent() == 7);
  CHECK(h.count("transport_error") == 7);

  Harness h2;
  for (int i = 0; i < 6; ++i)
    h2.server.replies.push_back(i % 2 ? reset_connection() : truncated());
  h2.server.replies.push_back(ok(page("2023-01-15", "A", "1", "")));
  auto c2 = h2.client();
  h2.fetch(c2);
  CHECK(h2.pages.size() == 1);
  CHECK(c2.requests_sent() == 7);
}

TEST_CASE("ce client: an invalid paging token restarts the period once") {
  Harness h;
  auto& s = h.server.replies;
  s.push_back(ok(page("2023-01-15", "A", "1", "t2")));
  s.push_back(status(400, R"({"__type":"InvalidNextTokenException"})"));
  s.push_back(ok(page("2023-01-15", "A", "1", "t2")));
  s.push_back(ok(page("2023-01-15", "B", "2", "")));
  auto c = h.client();
  h.fetch(c);
  REQUIRE(h.pages.size() == 3);
  CHECK(h.pages[2][0].groups[0].keys[0] == "B");
  CHECK(h.server.received()[2].body().find("NextPageToken") == std::string::npos);

  Harness h2;
  auto& s2 = h2.server.replies;
  s2.push_back(ok(page("2023-01-15", "A", "1", "t2")));
  s2.push_back(status(400, R"({"__type":"RequestChangedException"})"));
  s2.push_back(ok(page("2023-01-15", "A", "1", "t2")));
  s2.push_back(status(400, R"({"__type":"InvalidNextTokenException"})"));
  auto c2 = h2.client();
  try {
    h2.fetch(c2);
    FAIL("expected a failure");
  } catch (const aws::CostExplorerError& e) {
    CHECK(e.kind() == aws::CeErrorKind::client);
  }
  CHECK(c2.requests_sent() == 4);
}

TEST_CASE("ce client: client errors, oversized bodies and endless paging fail clearly") {
  {
    Harness h;
    h.server.replies.push_back(
        status(400, R"({"__type":"ValidationException","message":"bad filter"})"));
    auto c = h.client();
    try {
      h.fetch(c);
      FAIL("expected a failure");
    } catch (const aws::CostExplorerError& e) {
      CHECK(e.kind() == aws::CeErrorKind::client);
      CHECK(std::string(e.what()).find("ValidationException: bad filter") != std::string::npos);
    }
    CHECK(h.count("client_error") == 1);
  }
  {
    Harness h;
    h.config.max_response_bytes = 64;
    h.server.replies.push_back(ok(page("2023-01-15", std::string(200, 'x'), "1", "")));
    auto c = h.client();
    try {
      h.fetch(c);
      FAIL("expected a failure");
    } catch (const aws::CostExplorerError& e) {
      CHECK(std::string(e.what()).find("max_response_bytes") != std::string::npos);
    }
    CHECK(c.requests_sent() == 1);
  }
  {
    Harness h;
    h.server.replies.push_back(ok(page("2023-01-15", "A", "1", "same")));
    h.server.replies.push_back(ok(page("2023-01-15", "A", "1", "same")));
    auto c = h.client();
    CHECK_THROWS_AS(h.fetch(c), aws::CostExplorerError);
  }
  {
    config::Config bad;
    bad.endpoint = "ftp://x";
    metrics::Metrics m;
    asio::io_context ioc;
    CHECK_THROWS_AS(
        aws::CostExplorerClient(ioc.get_executor(), bad, std::make_shared<CountingProvider>(), m),
        std::invalid_argument);
  }
}
