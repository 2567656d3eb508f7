// Container credentials (ECS, EKS Pod Identity): the endpoint from the environment, the hosts
// plain http may reach, the Authorization token (file re-read at every fetch, CR/LF refused), the
// answer, and the fetch against an in-process peer that requires the token.

#include "aws/container_credentials.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include "aws/credential_chain.hpp"
#include "fake_env.hpp"
#include "http_peer.hpp"
#include "metrics/metrics.hpp"

using namespace sab;
using namespace std::chrono_literals;
using testing::env_of;
using testing::files_of;
using testing::HttpPeer;

namespace {

const char* kCreds = R"({"RoleArn":"arn:aws:iam::123456789012:role/task",
  "AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container/secret","Token":"container-token",
  "Expiration":"2030-01-01T00:00:00Z","AccountId":"123456789012"})";

std::string endpoint_error(std::map<std::string, std::string> vars) {
  try {
    (void)aws::container_endpoint(env_of(std::move(vars)));
  } catch (const aws::CredentialError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("container credentials: endpoint and allowed hosts") {
  CHECK_FALSE(aws::container_configured(env_of({})));
  auto e = aws::container_endpoint(
      env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc-123"},
              {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/ignored"}}));
  CHECK(e.url.host == "169.254.170.2");
  CHECK(e.url.port == "80");
  CHECK(e.url.target == "/v2/credentials/abc-123");
  CHECK(e.variable == "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  CHECK(e.shown == "http://169.254.170.2");  // the path (a capability) is not shown
  e = aws::container_endpoint(
      env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"}}));
  CHECK(e.url.host == "169.254.170.23");
  e = aws::container_endpoint(
      env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[fd00:ec2::23]:80/v1/credentials"}}));
  CHECK(e.url.host == "fd00:ec2::23");
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST",
                           "169.254.170.2", "169.254.170.23", "fd00:ec2::23", "fd00:ec2:0::23"}) {
    CAPTURE(host);
    CHECK(aws::container_host_allowed(host));
  }
  for (const char* host : {"169.254.169.254", "10.0.0.1", "192.168.1.1", "example.com",
                           "fd00:ec2::24", "localhost.evil.com", "0.0.0.0"}) {
    CAPTURE(host);
    CHECK_FALSE(aws::container_host_allowed(host));
  }
  // A proxy never sees loopback or link-local endpoints (the agent next to the task or pod).
  for (const char* host : {"127.0.0.1", "::1", "localhost", "169.254.170.2", "169.254.170.23",
                           "169.254.1.1", "fe80::1", "fd00:ec2::23"}) {
    CAPTURE(host);
    CHECK(aws::is_local_host(host));
  }
  for (const char* host : {"10.0.0.1", "creds.example.com", "fd00:ec2::24", "169.253.1.1"}) {
    CAPTURE(host);
    CHECK_FALSE(aws::is_local_host(host));
  }
  // https may go anywhere.
  e = aws::container_endpoint(
      env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x"}}));
  CHECK(e.url.tls);
  CHECK(endpoint_error({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.168.1.10:8080/creds"}})
            .find("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI names host "
                  "192.168.1.10, which plain "
                  "http may not reach") == 0);
  CHECK(endpoint_error({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/x"}}) ==
        "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL");
}

TEST_CASE("container credentials: the authorization token") {
  const auto files = files_of({{"/var/run/token", "pod-identity-token\n"},
                               {"/var/run/empty", "\n"},
                               {"/var/run/crlf", "a\r\nb"}});
  CHECK_FALSE(aws::container_authorization(env_of({}), files));
  CHECK(aws::container_authorization(env_of({{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token"}}),
                                     files) == "env-token");
  // The file wins over the variable.
  CHECK(aws::container_authorization(
            env_of({{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token"},
                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/token"}}),
            files) == "pod-identity-token");
  auto error = [&](std::map<std::string, std::string> vars) -> std::string {
    try {
      (void)aws::container_authorization(env_of(std::move(vars)), files);
    } catch (const aws::CredentialError& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(error({{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/missing"}}) ==
        "container credentials: cannot read the authorization token file /var/run/missing "
        "(AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)");
  CHECK(error({{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/empty"}}).find("is empty") !=
        std::string::npos);
  CHECK(error({{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/crlf"}}).find("line break") !=
        std::string::npos);
  CHECK(error({{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "x\ny"}}).find("line break") !=
        std::string::npos);
}

TEST_CASE("container credentials: request and answer") {
  const auto url = net::parse_url("http://127.0.0.1:9/v1/credentials?x=1");
  auto req = aws::container_request(*url, std::string("tok"));
  CHECK(req.target() == "/v1/credentials?x=1");
  CHECK(req[boost::beast::http::field::authorization] == "tok");
  CHECK(req[boost::beast::http::field::accept] == "application/json");
  CHECK(
      aws::container_request(*url, std::nullopt)[boost::beast::http::field::authorization].empty());
  const auto c = aws::parse_container_credentials(kCreds);
  CHECK(c.access_key_id == "ASIACONTAINER");
  CHECK(c.session_token == "container-token");
  CHECK(c.expiration);
  CHECK_THROWS_AS(aws::parse_container_credentials(R"({"AccessKeyId":"A","SecretAccessKey":"s"})"),
                  aws::CredentialError);
  CHECK_THROWS_AS(aws::parse_container_credentials("not json"), aws::CredentialError);
}

TEST_CASE("container credentials: the fetch sends the token, re-read each time") {
  boost::asio::io_context ioc;
  std::string expected = "first-token";
  HttpPeer peer(ioc, [&](const net::Request& req) -> std::optional<net::Response> {
    if (req[boost::beast::http::field::authorization] != expected) {
      return HttpPeer::answer(401, R"({"message":"bad token"})");
    }
    return HttpPeer::answer(200, kCreds);
  });
  std::string token_file_content = "first-token";
  const aws::FileReader read = [&](const std::string&) -> std::optional<std::string> {
    return token_file_content;
  };
  const auto env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.url() + "/v1/credentials"},
                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/token"}});
  auto c =
      testing::run_until_done(ioc, aws::container_credentials(ioc.get_executor(), env, read, {}));
  CHECK(c.access_key_id == "ASIACONTAINER");
  CHECK(peer.requests().back().target() == "/v1/credentials");
  // The agent rotated the token: the next fetch reads the file again.
  expected = token_file_content = "second-token";
  c = testing::run_until_done(ioc, aws::container_credentials(ioc.get_executor(), env, read, {}));
  CHECK(c.access_key_id == "ASIACONTAINER");
  // A wrong token: one attempt (a 4xx is not tried again), a clear error without the body.
  expected = "third-token";
  try {
    (void)testing::run_until_done(
        ioc, aws::container_credentials(ioc.get_executor(), env, read, {500ms, 2, "", {}}));
    FAIL("expected an error");
  } catch (const aws::CredentialError& e) {
    CHECK(std::string(e.what()) == "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, " +
                                       peer.url().substr(0) + "): answered HTTP 401");
  }
  CHECK(peer.requests().size() == 3);
  // Silence: the deadline ends each attempt.
  HttpPeer silent(ioc,
                  [](const net::Request&) -> std::optional<net::Response> { return std::nullopt; });
  const auto silent_env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                   "http://127.0.0.1:" + std::to_string(silent.port()) + "/c"}});
  try {
    (void)testing::run_until_done(
        ioc, aws::container_credentials(ioc.get_executor(), silent_env, read, {200ms, 2, "", {}}));
    FAIL("expected an error");
  } catch (const aws::CredentialError& e) {
    CHECK(std::string(e.what()).find("request failed") != std::string::npos);
  }
  CHECK(silent.requests().size() == 2);
}

TEST_CASE("container credentials: the chain caches them and fetches again before they expire") {
  boost::asio::io_context ioc;
  int served = 0;
  const auto expiry = std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};
  HttpPeer peer(ioc, [&](const net::Request&) -> std::optional<net::Response> {
    ++served;
    return HttpPeer::answer(
        200, R"({"AccessKeyId":"ASIAFETCH)" + std::to_string(served) +
                 R"(","SecretAccessKey":"s","Token":"t","Expiration":"2030-01-01T00:00:00Z"})");
  });
  metrics::Metrics metrics;
  config::Config config;
  aws::ChainOptions options;
  aws::TimePoint now = expiry - std::chrono::hours(1);
  options.clock = [&now] { return now; };
  options.read_file = files_of({});
  aws::ChainCredentialProvider chain(
      ioc.get_executor(), config,
      env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.url() + "/creds"}}), &metrics, options);
  CHECK(testing::run_until_done(ioc, chain.get()).access_key_id == "ASIAFETCH1");
  now = expiry - std::chrono::minutes(6);
  CHECK(testing::run_until_done(ioc, chain.get()).access_key_id == "ASIAFETCH1");  // cached
  now = expiry - std::chrono::minutes(4);  // inside the 5-minute margin
  CHECK(testing::run_until_done(ioc, chain.get()).access_key_id == "ASIAFETCH2");
  CHECK(served == 2);
  CHECK(metrics.credential_refreshes("success").Value() == 2);
}
