// The shared config and credentials files: INI parsing as the SDKs read it, the merged view, and
// profile resolution the way botocore does it (role_arn + source_profile chains with cycle
// detection, credential_source, credential_process, which keys win).

#include "aws/profile_files.hpp"

#include <doctest/doctest.h>

#include "aws/credential_chain.hpp"
#include "aws/sts.hpp"
#include "fake_env.hpp"

using namespace sab;
using testing::env_of;
using testing::files_of;

namespace {

aws::ProfileFiles files(const std::string& config, const std::string& credentials = "") {
  aws::ProfileFiles f;
  f.config = aws::parse_profiles(config, aws::ProfileFileKind::config);
  f.credentials = aws::parse_profiles(credentials, aws::ProfileFileKind::credentials);
  f.config_path = "/h/.aws/config";
  f.credentials_path = "/h/.aws/credentials";
  f.config_read = f.credentials_read = true;
  return f;
}

std::string error_of(const aws::ProfileFiles& f, const std::string& profile) {
  try {
    (void)aws::resolve_profile(f, profile);
  } catch (const aws::CredentialError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("profile files: INI as the SDKs read it") {
  const auto config = aws::parse_profiles(R"(# comment
[default]
region = eu-west-1
; another comment
[profile dev]
Role_ARN: arn:aws:iam::111111111111:role/dev
s3 =
  max_concurrent_requests = 20
source_profile = default
[profile "quoted name"]
region=us-west-2
[sso-session corp]
sso_region = us-east-1
[services extra]
sts =
  endpoint_url = http://x
[ops]
region = ap-south-1
[profile   spaced   ]
region = ca-central-1
)",
                                          aws::ProfileFileKind::config);
  CHECK(config.size() == 4);
  CHECK(config.at("default").at("region") == "eu-west-1");
  CHECK(config.at("dev").at("role_arn") == "arn:aws:iam::111111111111:role/dev");
  CHECK(config.at("dev").at("s3").empty());
  CHECK(config.at("dev").count("max_concurrent_requests") == 0);  // nested, skipped
  CHECK(config.at("dev").at("source_profile") == "default");
  CHECK(config.at("quoted name").at("region") == "us-west-2");
  CHECK(config.at("spaced").at("region") == "ca-central-1");
  CHECK(config.count("ops") == 0);  // [ops] is no profile in the config file
  CHECK(config.count("corp") == 0);
  CHECK(config.count("sso-session corp") == 0);

  // The credentials file names profiles without the "profile " prefix; CRLF line ends.
  const auto creds = aws::parse_profiles(
      "[default]\r\naws_access_key_id=A\r\naws_secret_access_key = B \r\n[ops]\r\n"
      "aws_access_key_id = C\r\n[default]\r\naws_session_token = T\r\n",
      aws::ProfileFileKind::credentials);
  CHECK(creds.at("default").at("aws_secret_access_key") == "B");
  CHECK(creds.at("default").at("aws_session_token") == "T");  // a repeated section is merged
  CHECK(creds.at("ops").at("aws_access_key_id") == "C");
  CHECK(aws::parse_profiles("", aws::ProfileFileKind::config).empty());
  CHECK(
      aws::parse_profiles("key = value without a section\n[x\n", aws::ProfileFileKind::credentials)
          .empty());
}

TEST_CASE("profile files: paths, the selected profile, the merged view") {
  const auto read = files_of({{"/h/.aws/config", "[profile a]\nregion = r1\noutput = json\n"},
                              {"/h/.aws/credentials", "[a]\nregion = r2\n"},
                              {"/etc/aws/cfg", "[default]\nregion = r3\n"}});
  auto f = aws::load_profile_files(env_of({{"HOME", "/h"}}), read);
  CHECK(f.config_read);
  CHECK(f.credentials_read);
  CHECK(f.config_path == "/h/.aws/config");
  CHECK(f.has("a"));
  CHECK_FALSE(f.has("default"));
  CHECK(f.merged("a").at("region") == "r2");  // the credentials file wins
  CHECK(f.merged("a").at("output") == "json");
  CHECK(f.setting("a", "region") == "r2");
  CHECK(f.setting("a", "nothing").empty());
  f = aws::load_profile_files(env_of({{"HOME", "/h"},
                                      {"AWS_CONFIG_FILE", "/etc/aws/cfg"},
                                      {"AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"}}),
                              read);
  CHECK(f.config_path == "/etc/aws/cfg");
  CHECK(f.credentials_path == "/h/.aws/credentials");
  CHECK(f.has("default"));
  f = aws::load_profile_files(env_of({}), read);
  CHECK_FALSE(f.config_read);
  CHECK(f.config_path.empty());

  bool named = true;
  CHECK(aws::selected_profile(env_of({}), &named) == "default");
  CHECK_FALSE(named);
  CHECK(aws::selected_profile(env_of({{"AWS_DEFAULT_PROFILE", "x"}}), &named) == "x");
  CHECK(named);
  CHECK(aws::selected_profile(env_of({{"AWS_PROFILE", "y"}, {"AWS_DEFAULT_PROFILE", "x"}})) == "y");
}

TEST_CASE("profile files: a profile's own credentials, in botocore's order") {
  // Keys of the credentials file win over credential_process, which wins over the config's keys.
  const auto f = files(
      "[profile both]\naws_access_key_id = CONFIGKEY\naws_secret_access_key = config-secret\n"
      "credential_process = /usr/bin/get-creds --profile 'both x'\n"
      "[profile proc]\ncredential_process = /usr/bin/get-creds\n"
      "aws_access_key_id = CONFIGKEY\naws_secret_access_key = config-secret\nregion = eu-north-1\n"
      "[profile cfgkeys]\naws_access_key_id = CONFIGKEY\naws_secret_access_key = config-secret\n"
      "[profile regiononly]\nregion = eu-west-3\n"
      "[profile half]\naws_access_key_id = HALF\n",
      "[both]\naws_access_key_id = CREDKEY\naws_secret_access_key = cred-secret\n"
      "aws_security_token = legacy-token\n");
  auto p = aws::resolve_profile(f, "both");
  REQUIRE(p);
  CHECK(p->base == aws::ProfileBase::static_keys);
  CHECK(p->keys.access_key_id == "CREDKEY");
  CHECK(p->keys.session_token == "legacy-token");
  CHECK(p->base_file == "/h/.aws/credentials");
  CHECK(p->roles.empty());
  p = aws::resolve_profile(f, "proc");
  REQUIRE(p);
  CHECK(p->base == aws::ProfileBase::process);
  CHECK(p->process == "/usr/bin/get-creds");
  CHECK(p->region == "eu-north-1");
  CHECK(aws::describe(*p) ==
        "profile 'proc': credential_process of profile 'proc' (program /usr/bin/get-creds) in "
        "/h/.aws/config");
  p = aws::resolve_profile(f, "cfgkeys");
  REQUIRE(p);
  CHECK(p->keys.access_key_id == "CONFIGKEY");
  CHECK(p->base_file == "/h/.aws/config");
  CHECK_FALSE(aws::resolve_profile(f, "regiononly"));  // no credentials: the chain goes on
  CHECK(error_of(f, "half") ==
        "profile 'half' of /h/.aws/config has aws_access_key_id without aws_secret_access_key");
  // A description never holds a secret or the process's arguments.
  const std::string d = aws::describe(*aws::resolve_profile(f, "both"));
  CHECK(d.find("cred-secret") == std::string::npos);
  CHECK(d.find("legacy-token") == std::string::npos);
}

TEST_CASE("profile files: role_arn with source_profile chains and credential_source") {
  const auto f = files(R"([default]
region = us-west-2
[profile app]
role_arn = arn:aws:iam::222222222222:role/app
source_profile = middle
role_session_name = billing-app
external_id = ext-1
duration_seconds = 900
region = eu-central-1
[profile middle]
role_arn = arn:aws:iam::111111111111:role/middle
source_profile = base
[profile base]
aws_access_key_id = AKIABASE
aws_secret_access_key = base-secret
[profile self]
role_arn = arn:aws:iam::333333333333:role/self
source_profile = self
aws_access_key_id = AKIASELF
aws_secret_access_key = self-secret
[profile viaprocess]
role_arn = arn:aws:iam::444444444444:role/p
source_profile = proc
[profile proc]
credential_process = get-creds
[profile ecs]
role_arn = arn:aws:iam::555555555555:role/ecs
credential_source = EcsContainer
[profile ec2]
role_arn = arn:aws:iam::555555555555:role/ec2
credential_source = Ec2InstanceMetadata
[profile env]
role_arn = arn:aws:iam::555555555555:role/env
credential_source = Environment
duration_seconds = soon
[profile webid]
role_arn = arn:aws:iam::666666666666:role/web
web_identity_token_file = /var/run/token
[profile onwebid]
role_arn = arn:aws:iam::666666666666:role/on-web
source_profile = webid
)");
  auto p = aws::resolve_profile(f, "app");
  REQUIRE(p);
  CHECK(p->base == aws::ProfileBase::static_keys);
  CHECK(p->base_profile == "base");
  CHECK(p->keys.access_key_id == "AKIABASE");
  CHECK(p->region == "eu-central-1");
  REQUIRE(p->roles.size() == 2);
  CHECK(p->roles[0].role_arn == "arn:aws:iam::111111111111:role/middle");  // innermost first
  CHECK(p->roles[0].session_name == "source-aws-billing");
  CHECK(p->roles[0].external_id.empty());
  CHECK(p->roles[0].duration_seconds == 0);
  CHECK(p->roles[1].role_arn == "arn:aws:iam::222222222222:role/app");
  CHECK(p->roles[1].session_name == "billing-app");
  CHECK(p->roles[1].external_id == "ext-1");
  CHECK(p->roles[1].duration_seconds == 900);
  CHECK(aws::describe(*p) ==
        "profile 'app': static keys of profile 'base' in /h/.aws/config, then role "
        "arn:aws:iam::111111111111:role/middle (profile 'middle'), then role "
        "arn:aws:iam::222222222222:role/app (profile 'app')");

  // A profile may be its own source when it has static keys.
  p = aws::resolve_profile(f, "self");
  REQUIRE(p);
  CHECK(p->keys.access_key_id == "AKIASELF");
  REQUIRE(p->roles.size() == 1);
  p = aws::resolve_profile(f, "viaprocess");
  REQUIRE(p);
  CHECK(p->base == aws::ProfileBase::process);
  CHECK(p->base_profile == "proc");
  CHECK(aws::resolve_profile(f, "ecs")->base == aws::ProfileBase::container);
  CHECK(aws::resolve_profile(f, "ec2")->base == aws::ProfileBase::imds);
  p = aws::resolve_profile(f, "env");
  CHECK(p->base == aws::ProfileBase::environment);
  CHECK(p->roles.at(0).duration_seconds == 0);  // not a number: ignored, as botocore does
  p = aws::resolve_profile(f, "webid");
  REQUIRE(p);
  CHECK(p->base == aws::ProfileBase::web_identity);
  CHECK(p->web_identity_token_file == "/var/run/token");
  CHECK(p->roles.empty());
  p = aws::resolve_profile(f, "onwebid");
  CHECK(p->base == aws::ProfileBase::web_identity);
  CHECK(p->roles.size() == 1);
}

TEST_CASE("profile files: broken role chains are clear errors") {
  const auto f = files(R"([profile a]
role_arn = arn:aws:iam::1:role/a
source_profile = b
[profile b]
role_arn = arn:aws:iam::1:role/b
source_profile = c
[profile c]
role_arn = arn:aws:iam::1:role/c
source_profile = a
[profile selfloop]
role_arn = arn:aws:iam::1:role/s
source_profile = selfloop
[profile missing]
role_arn = arn:aws:iam::1:role/m
source_profile = nowhere
[profile empty-source]
role_arn = arn:aws:iam::1:role/e
source_profile = regiononly
[profile regiononly]
region = eu-west-1
[profile neither]
role_arn = arn:aws:iam::1:role/n
[profile both]
role_arn = arn:aws:iam::1:role/n
source_profile = a
credential_source = Environment
[profile unknown]
role_arn = arn:aws:iam::1:role/u
credential_source = Laptop
)");
  CHECK(error_of(f, "a") == "source_profile cycle: a -> b -> c -> a");
  CHECK(error_of(f, "b") == "source_profile cycle: b -> c -> a -> b");
  CHECK(error_of(f, "selfloop") == "source_profile cycle: selfloop -> selfloop");
  CHECK(error_of(f, "missing") == "source_profile 'nowhere' of profile 'missing' does not exist");
  CHECK(error_of(f, "empty-source") ==
        "source_profile 'regiononly' of profile 'empty-source' has no credentials");
  CHECK(error_of(f, "neither") ==
        "profile 'neither' has role_arn but neither source_profile nor credential_source");
  CHECK(error_of(f, "both") == "profile 'both' has both source_profile and credential_source");
  CHECK(error_of(f, "unknown").find("credential_source 'Laptop' of profile 'unknown'") == 0);
}

TEST_CASE("profile files: the chain's shared-files step") {
  config::Config c;
  const auto read = files_of(
      {{"/h/.aws/config",
        "[default]\nregion = eu-west-1\n[profile app]\nrole_arn = arn:aws:iam::1:role/app\n"
        "source_profile = default\nregion = ap-southeast-2\n[profile loop]\n"
        "role_arn = arn:aws:iam::1:role/l\nsource_profile = loop\n[profile bare]\nregion = x\n"},
       {"/h/.aws/credentials",
        "[default]\naws_access_key_id = AKIAD\naws_secret_access_key = d\n"}});
  auto s = aws::choose_source(c, env_of({{"HOME", "/h"}, {"AWS_PROFILE", "app"}}), read);
  REQUIRE(s.source == aws::CredentialSource::shared_file);
  REQUIRE(s.profile);
  CHECK(s.profile->keys.access_key_id == "AKIAD");
  CHECK(s.profile->roles.size() == 1);
  CHECK(s.region == "ap-southeast-2");
  // The profile's region serves STS (after AWS_REGION / AWS_DEFAULT_REGION).
  CHECK(aws::sts_endpoint(c, env_of({}), s.region).url ==
        "https://sts.ap-southeast-2.amazonaws.com");
  CHECK(aws::sts_endpoint(c, env_of({{"AWS_REGION", "us-west-1"}}), s.region).region ==
        "us-west-1");
  // A cycle ends the chain with an error naming the files.
  s = aws::choose_source(c, env_of({{"HOME", "/h"}, {"AWS_PROFILE", "loop"}}), read);
  CHECK(s.source == aws::CredentialSource::none);
  CHECK(s.error == "source_profile cycle: loop -> loop (/h/.aws/config, /h/.aws/credentials)");
  // A profile without credentials lets the chain go on (to the container source here), and the
  // region still serves STS.
  s = aws::choose_source(c,
                         env_of({{"HOME", "/h"},
                                 {"AWS_PROFILE", "bare"},
                                 {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/c"}}),
                         read);
  CHECK(s.source == aws::CredentialSource::container);
  CHECK(s.region == "x");
  CHECK(s.tried.back().find("profile 'bare' holds no credentials") != std::string::npos);
  // A profile named by AWS_PROFILE must exist; the default one may be missing.
  s = aws::choose_source(c, env_of({{"HOME", "/h"}, {"AWS_PROFILE", "gone"}}), read);
  CHECK(s.error == "profile 'gone' not found in /h/.aws/config, /h/.aws/credentials");
  s = aws::choose_source(c, env_of({{"HOME", "/elsewhere"}, {"AWS_EC2_METADATA_DISABLED", "true"}}),
                         read);
  CHECK(s.source == aws::CredentialSource::none);
  CHECK(s.error.find("shared files (/elsewhere/.aws/config, /elsewhere/.aws/credentials): not "
                     "readable") != std::string::npos);
}
