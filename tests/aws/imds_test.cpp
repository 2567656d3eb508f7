// IMDSv2: endpoint settings, the token / role / credentials requests and answers, and the fetch
// against an in-process peer that implements the protocol (token header required), one that
// never answers (about attempts x timeout, then a clear error) and a closed port.

#include "aws/imds.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include "fake_env.hpp"
#include "http_peer.hpp"

using namespace sab;
using namespace std::chrono_literals;
using testing::env_of;
using testing::HttpPeer;

namespace {

const char* kCreds = R"({
  "Code" : "Success",
  "LastUpdated" : "2024-01-01T00:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAIMDSEXAMPLE",
  "SecretAccessKey" : "imds/secret+key",
  "Token" : "imds-session-token",
  "Expiration" : "2030-01-01T06:00:00Z"
})";

std::string error_of(boost::asio::io_context& ioc, const aws::ImdsSettings& settings,
                     const aws::ImdsOptions& options = {200ms, 2, 60}) {
  try {
    (void)testing::run_until_done(ioc,
                                  aws::imds_credentials(ioc.get_executor(), settings, options));
  } catch (const aws::CredentialError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("imds: settings from the environment") {
  auto s = aws::imds_settings(env_of({}));
  CHECK_FALSE(s.disabled);
  CHECK(s.endpoint == "http://169.254.169.254");
  s = aws::imds_settings(env_of({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}}));
  CHECK(s.endpoint == "http://[fd00:ec2::254]");
  s = aws::imds_settings(env_of({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8/"},
                                 {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"},
                                 {"AWS_EC2_METADATA_DISABLED", "True"}}));
  CHECK(s.endpoint == "http://127.0.0.1:8/");
  CHECK(s.disabled);
  CHECK_FALSE(aws::imds_settings(env_of({{"AWS_EC2_METADATA_DISABLED", "1"}})).disabled);
}

TEST_CASE("imds: requests and answers") {
  auto base = net::parse_url("http://[fd00:ec2::254]");
  REQUIRE(base);
  auto token = aws::imds_token_request(*base, 21600);
  CHECK(token.method() == boost::beast::http::verb::put);
  CHECK(token.target() == "/latest/api/token");
  CHECK(token["X-aws-ec2-metadata-token-ttl-seconds"] == "21600");
  CHECK(token[boost::beast::http::field::host] == "[fd00:ec2::254]");
  base = net::parse_url("http://127.0.0.1:1234/prefix/");
  auto get = aws::imds_get_request(*base, "/latest/meta-data/iam/security-credentials/", "tok");
  CHECK(get.method() == boost::beast::http::verb::get);
  CHECK(get.target() == "/prefix/latest/meta-data/iam/security-credentials/");
  CHECK(get["X-aws-ec2-metadata-token"] == "tok");

  CHECK(aws::parse_imds_role("billing-role\n") == "billing-role");
  CHECK(aws::parse_imds_role("first\nsecond\n") == "first");
  CHECK_THROWS_AS(aws::parse_imds_role("\n"), aws::CredentialError);
  CHECK_THROWS_AS(aws::parse_imds_role("../../etc"), aws::CredentialError);
  CHECK_THROWS_AS(aws::parse_imds_role("a b"), aws::CredentialError);

  const auto c = aws::parse_imds_credentials(kCreds);
  CHECK(c.access_key_id == "ASIAIMDSEXAMPLE");
  CHECK(c.secret_access_key == "imds/secret+key");
  CHECK(c.session_token == "imds-session-token");
  CHECK(c.expiration);
  try {
    (void)aws::parse_imds_credentials(
        R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"EC2 cannot assume the role"})");
    FAIL("expected an error");
  } catch (const aws::CredentialError& e) {
    CHECK(std::string(e.what()) ==
          "IMDS answered Code AssumeRoleUnauthorizedAccess: EC2 cannot assume the role");
  }
  CHECK_THROWS_AS(aws::parse_imds_credentials(R"({"Code":"Success","AccessKeyId":"A"})"),
                  aws::CredentialError);
  CHECK_THROWS_AS(aws::parse_imds_credentials("<html>"), aws::CredentialError);
}

TEST_CASE("imds: the fetch follows IMDSv2") {
  boost::asio::io_context ioc;
  int tokens = 0;
  HttpPeer peer(ioc, [&](const net::Request& req) -> std::optional<net::Response> {
    const std::string target(req.target());
    if (req.method() == boost::beast::http::verb::put && target == "/latest/api/token") {
      if (req["X-aws-ec2-metadata-token-ttl-seconds"].empty()) return HttpPeer::answer(400, "");
      ++tokens;
      return HttpPeer::answer(200, "session-" + std::to_string(tokens));
    }
    if (req["X-aws-ec2-metadata-token"] != "session-" + std::to_string(tokens)) {
      return HttpPeer::answer(401, "");
    }
    if (target == "/latest/meta-data/iam/security-credentials/") {
      return HttpPeer::answer(200, "billing-role");
    }
    if (target == "/latest/meta-data/iam/security-credentials/billing-role") {
      return HttpPeer::answer(200, kCreds);
    }
    return HttpPeer::answer(404, "");
  });
  const auto c = testing::run_until_done(
      ioc, aws::imds_credentials(ioc.get_executor(), {false, peer.url()}, {}));
  CHECK(c.access_key_id == "ASIAIMDSEXAMPLE");
  REQUIRE(peer.requests().size() == 3);
  CHECK(peer.requests()[0]["X-aws-ec2-metadata-token-ttl-seconds"] == "300");
  // A second fetch asks for a new token.
  (void)testing::run_until_done(ioc,
                                aws::imds_credentials(ioc.get_executor(), {false, peer.url()}, {}));
  CHECK(tokens == 2);
}

TEST_CASE("imds: failures are clear errors naming IMDS and the step") {
  boost::asio::io_context ioc;
  // No IMDSv2 (a v1-only service refuses the PUT): not used.
  HttpPeer v1_only(ioc, [](const net::Request& req) -> std::optional<net::Response> {
    if (req.method() == boost::beast::http::verb::put) return HttpPeer::answer(403, "");
    return HttpPeer::answer(200, "billing-role");
  });
  CHECK(error_of(ioc, {false, v1_only.url()}) ==
        "IMDS (" + v1_only.url() +
            "): token request: HTTP 403 (no IMDSv2 here; IMDSv1 is not used)");
  CHECK(v1_only.requests().size() == 1);
  // No instance profile.
  HttpPeer no_role(ioc, [](const net::Request& req) -> std::optional<net::Response> {
    if (req.method() == boost::beast::http::verb::put) return HttpPeer::answer(200, "t");
    return HttpPeer::answer(404, "");
  });
  CHECK(error_of(ioc, {false, no_role.url()}) ==
        "IMDS (" + no_role.url() + "): role request: HTTP 404 (no instance profile attached)");
  // A 500 is tried once more.
  HttpPeer broken(ioc, [](const net::Request&) -> std::optional<net::Response> {
    return HttpPeer::answer(500, "");
  });
  CHECK(error_of(ioc, {false, broken.url()}).find("token request: HTTP 500") != std::string::npos);
  CHECK(broken.requests().size() == 2);
  // Silence: two attempts of `timeout` each, then an error.
  HttpPeer silent(ioc,
                  [](const net::Request&) -> std::optional<net::Response> { return std::nullopt; });
  const auto started = std::chrono::steady_clock::now();
  const std::string e = error_of(ioc, {false, silent.url()}, {300ms, 2, 60});
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(e.find("IMDS (" + silent.url() + "): token request:") == 0);
  CHECK(silent.requests().size() == 2);
  CHECK(took >= 550ms);
  CHECK(took < 3s);
  // Nothing listens.
  const std::string closed_url = "http://127.0.0.1:1";
  CHECK(error_of(ioc, {false, closed_url}).find("IMDS (http://127.0.0.1:1): token request:") == 0);
  CHECK(error_of(ioc, {true, closed_url}) ==
        "IMDS (http://127.0.0.1:1): disabled by AWS_EC2_METADATA_DISABLED");
  CHECK(error_of(ioc, {false, "ftp://x"}) == "IMDS (ftp://x): not an http(s) URL");
}
