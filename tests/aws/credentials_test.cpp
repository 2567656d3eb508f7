// The credential chain's pure parts: source choice in SDK order (with what was tried when none
// applies), STS request bodies and responses, the STS endpoint, refresh timing.

#include "aws/credentials.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <map>

#include "aws/credential_chain.hpp"
#include "aws/sts.hpp"
#include "aws/xml.hpp"
#include "fake_env.hpp"
#include "metrics/metrics.hpp"
#include "support/run_coroutine.hpp"

using namespace sab;
using namespace std::chrono;

namespace {

using testing::env_of;
using testing::files_of;

const char* kIni = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key=default-secret

; another
[ops]
AWS_ACCESS_KEY_ID   =   AKIDOPS
aws_secret_access_key = ops/secret+
aws_session_token = ops-token
[broken]
aws_access_key_id = AKIDBROKEN
)";

}  // namespace

TEST_CASE("credentials: the chain picks sources in SDK order") {
  config::Config c;
  const auto no_files = files_of({});
  // 1. config
  c.secret = {"AKIDCONF", "conf-secret", "conf-token"};
  auto s = aws::choose_source(
      c, env_of({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}}),
      no_files);
  CHECK(s.source == aws::CredentialSource::config);
  CHECK(s.credentials.access_key_id == "AKIDCONF");
  CHECK(s.credentials.session_token == "conf-token");
  c.secret = {};
  // 2. environment, before web identity and the file
  const auto full_env =
      std::map<std::string, std::string>{{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                         {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                         {"AWS_SESSION_TOKEN", "env-token"},
                                         {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"},
                                         {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
                                         {"HOME", "/home/u"}};
  const auto files = files_of({{"/home/u/.aws/credentials", kIni}, {"/etc/creds", kIni}});
  s = aws::choose_source(c, env_of(full_env), files);
  CHECK(s.source == aws::CredentialSource::environment);
  CHECK(s.credentials.session_token == "env-token");
  // 3. web identity
  auto env = full_env;
  env.erase("AWS_ACCESS_KEY_ID");
  env.erase("AWS_SECRET_ACCESS_KEY");
  s = aws::choose_source(c, env_of(env), files);
  CHECK(s.source == aws::CredentialSource::web_identity);
  CHECK(s.web_identity.role_arn == "arn:aws:iam::123456789012:role/r");
  CHECK(s.web_identity.token_file == "/var/run/token");
  CHECK(s.web_identity.session_name == "source-aws-billing");
  env["AWS_ROLE_SESSION_NAME"] = "pod-1";
  CHECK(aws::choose_source(c, env_of(env), files).web_identity.session_name == "pod-1");
  // 4. shared file: default path under HOME, default profile; then AWS_PROFILE and the path env
  env.erase("AWS_ROLE_ARN");
  s = aws::choose_source(c, env_of(env), files);
  CHECK(s.source == aws::CredentialSource::shared_file);
  REQUIRE(s.profile);
  CHECK(s.profile->keys.access_key_id == "AKIDDEFAULT");
  env["AWS_PROFILE"] = "ops";
  env["AWS_SHARED_CREDENTIALS_FILE"] = "/etc/creds";
  s = aws::choose_source(c, env_of(env), files);
  REQUIRE(s.profile);
  CHECK(s.profile->keys.access_key_id == "AKIDOPS");
  CHECK(s.profile->keys.session_token == "ops-token");
  CHECK(s.description.find("/etc/creds") != std::string::npos);
  CHECK(s.description.find("ops/secret") == std::string::npos);
  // 5. container credentials, when their variables are set
  s = aws::choose_source(
      c, env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}), no_files);
  CHECK(s.source == aws::CredentialSource::container);
  CHECK(s.description.find("RELATIVE_URI") != std::string::npos);
  // 6. IMDS when nothing else applies
  s = aws::choose_source(c, env_of({{"HOME", "/home/nobody"}}), no_files);
  CHECK(s.source == aws::CredentialSource::imds);
  CHECK(s.description == "IMDS (http://169.254.169.254)");
  REQUIRE(s.tried.size() == 5);
  CHECK(s.tried[3] ==
        "shared files (/home/nobody/.aws/config, /home/nobody/.aws/credentials): "
        "not readable");
  // nothing at all: the message lists what was tried, in order
  s = aws::choose_source(c, env_of({{"AWS_EC2_METADATA_DISABLED", "TRUE"}}), no_files);
  CHECK(s.source == aws::CredentialSource::none);
  CHECK(s.error ==
        "no AWS credentials found; tried: config: secret.* not set; environment: "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set; web identity: "
        "AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE not set; shared files (no HOME, no "
        "AWS_CONFIG_FILE): not readable; container: "
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI not set; IMDS: "
        "disabled by AWS_EC2_METADATA_DISABLED");
  // half-set pairs are errors, not silently skipped
  s = aws::choose_source(c, env_of({{"AWS_ACCESS_KEY_ID", "AKIDENV"}}), files);
  CHECK(s.source == aws::CredentialSource::none);
  CHECK(s.error.find("AWS_SECRET_ACCESS_KEY") != std::string::npos);
  c.secret.access_key_id = "AKIDONLY";
  s = aws::choose_source(c, env_of({{"AWS_EC2_METADATA_DISABLED", "true"}}), no_files);
  CHECK(s.source == aws::CredentialSource::none);
  CHECK(s.error.find("secret.secret_access_key") != std::string::npos);
  c.secret = {};
  s = aws::choose_source(c, env_of({{"AWS_PROFILE", "nope"}, {"HOME", "/home/u"}}), files);
  CHECK(s.source == aws::CredentialSource::none);
  CHECK(s.error.find("'nope' not found") != std::string::npos);
}

TEST_CASE("credentials: STS endpoint and request bodies") {
  config::Config c;
  c.region = "eu-west-1";
  auto e = aws::sts_endpoint(c, env_of({}));
  CHECK(e.url == "https://sts.eu-west-1.amazonaws.com");
  CHECK(e.region == "eu-west-1");
  c.region = "cn-northwest-1";
  CHECK(aws::sts_endpoint(c, env_of({})).url == "https://sts.cn-northwest-1.amazonaws.com.cn");
  e = aws::sts_endpoint(
      c, env_of({{"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000"}, {"AWS_REGION", "us-west-2"}}));
  CHECK(e.url == "http://127.0.0.1:5000");
  CHECK(e.region == "us-west-2");
  CHECK(aws::assume_role_body("arn:aws:iam::1:role/a b", "s", "ext&id", 900) ==
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b"
        "&RoleSessionName=s&DurationSeconds=900&ExternalId=ext%26id");
  CHECK(aws::assume_role_body("r", "s", "", 3600).find("ExternalId") == std::string::npos);
  CHECK(aws::web_identity_body("r", "s", "tok+/=", 3600) ==
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=r&RoleSessionName=s"
        "&DurationSeconds=3600&WebIdentityToken=tok%2B%2F%3D");
}

TEST_CASE("credentials: STS responses") {
  const std::string ok = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
      <SecretAccessKey>se/cr+et</SecretAccessKey>
      <SessionToken>to&amp;ken</SessionToken>
      <Expiration>2026-01-15T03:04:05.123Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>)";
  const auto c = aws::parse_sts_response(ok);
  CHECK(c.access_key_id == "ASIAEXAMPLE");
  CHECK(c.secret_access_key == "se/cr+et");
  CHECK(c.session_token == "to&ken");
  REQUIRE(c.expiration);
  CHECK(*c.expiration == sys_days{2026y / 1 / 15} + 3h + 4min + 5s);
  try {
    (void)aws::parse_sts_response(
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not "
        "allowed</Message></Error></ErrorResponse>");
    FAIL("expected an error");
  } catch (const aws::CredentialError& e) {
    CHECK(std::string(e.what()) == "STS error AccessDenied: not allowed");
  }
  CHECK_THROWS_AS(aws::parse_sts_response(""), aws::CredentialError);
  CHECK_THROWS_AS(aws::parse_sts_response(ok.substr(0, ok.size() / 2)), aws::CredentialError);
  std::string bad_date = ok;
  bad_date.replace(bad_date.find("2026-01-15T"), 4, "20x6");
  CHECK_THROWS_AS(aws::parse_sts_response(bad_date), aws::CredentialError);
  CHECK(aws::parse_iso8601("2026-01-15T03:04:05Z"));
  CHECK(aws::parse_iso8601("2026-01-15T03:04:05+00:00"));
  CHECK_FALSE(aws::parse_iso8601("2026-02-30T03:04:05Z"));
  CHECK_FALSE(aws::parse_iso8601("2026-01-15T03:04:05+02:00"));
  CHECK(aws::xml_element("<a>x &#65;&#x42; &lt;</a>", "a") == "x AB <");
}

TEST_CASE("credentials: temporary credentials are refreshed 5 minutes before expiry") {
  const auto now = sys_days{2026y / 1 / 15} + 12h;
  aws::Credentials c{"A", "S", "T", std::nullopt};
  CHECK_FALSE(aws::needs_refresh(c, now));  // static: never
  c.expiration = now + 10min;
  CHECK_FALSE(aws::needs_refresh(c, now));
  c.expiration = now + 5min;
  CHECK(aws::needs_refresh(c, now));
  c.expiration = now - 1s;
  CHECK(aws::needs_refresh(c, now));
  CHECK(aws::needs_refresh(aws::Credentials{}, now));
  aws::wipe(c);
  CHECK(c.secret_access_key.empty());
  CHECK(c.session_token.empty());
  CHECK(c.access_key_id == "A");
}

namespace {

// Runs provider.get() to completion on `ioc`.
aws::Credentials get_now(aws::CredentialProvider& p, boost::asio::io_context& ioc) {
  return test::run_coroutine(ioc, p.get());
}

}  // namespace

TEST_CASE("credentials: the chain provider without STS") {
  boost::asio::io_context ioc;
  metrics::Metrics m;
  config::Config c;
  c.secret = {"AKIDCONF", "conf-secret", ""};
  aws::ChainOptions o;
  o.read_file = files_of({});
  {
    aws::ChainCredentialProvider p(ioc.get_executor(), c, env_of({}), &m, o);
    const auto creds = get_now(p, ioc);
    CHECK(creds.access_key_id == "AKIDCONF");
    CHECK(creds.secret_access_key == "conf-secret");
    CHECK_FALSE(creds.expiration);
    CHECK(get_now(p, ioc).access_key_id == "AKIDCONF");
    // Static keys are not "refreshes".
    CHECK(m.credential_refreshes("success").Value() == 0);
  }
  c.secret = {};
  {
    aws::ChainCredentialProvider p(ioc.get_executor(), c,
                                   env_of({{"AWS_EC2_METADATA_DISABLED", "true"}}), &m, o);
    try {
      get_now(p, ioc);
      FAIL("expected an error");
    } catch (const aws::CredentialError& e) {
      CHECK(std::string(e.what()).find("no AWS credentials") != std::string::npos);
    }
  }
  {
    // Web identity with an unreadable token file: a counted failure, a clear message.
    aws::ChainCredentialProvider p(ioc.get_executor(), c,
                                   env_of({{"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
                                           {"AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"}}),
                                   &m, o);
    try {
      get_now(p, ioc);
      FAIL("expected an error");
    } catch (const aws::CredentialError& e) {
      CHECK(std::string(e.what()).find("/nonexistent/token") != std::string::npos);
    }
    CHECK(m.credential_refreshes("failure").Value() == 1);
  }
}
