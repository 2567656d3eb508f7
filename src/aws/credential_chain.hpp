#pragma once

// The credential provider chain: which source gives the AWS credentials, in the order of the
// AWS SDKs, and the provider that loads, caches and refreshes them.
//
//   1. static keys from the config (secret.*)
//   2. environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]
//   3. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE [+ AWS_ROLE_SESSION_NAME]
//      (STS AssumeRoleWithWebIdentity, unsigned): EKS IRSA
//   4. shared files: AWS_CONFIG_FILE (~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE
//      (~/.aws/credentials), profile AWS_PROFILE (default "default"): static keys,
//      credential_process, role_arn on a source_profile chain or credential_source
//      (aws/profile_files.hpp, aws/credential_process.hpp)
//   5. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI: ECS task roles, EKS Pod
//      Identity (aws/container_credentials.hpp)
//   6. IMDSv2, unless AWS_EC2_METADATA_DISABLED: EC2 instance profiles (aws/imds.hpp)
// and then, when the config has role_arn, STS AssumeRole (signed with the above) on top.
// Temporary credentials are refreshed `kRefreshMargin` before they expire.
//
// The choice of source is pure (it reads files through an injectable reader); the provider class
// does the I/O of the chosen source: STS calls, the credential process, the metadata endpoints.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/container_credentials.hpp"
#include "aws/credential_process.hpp"
#include "aws/credentials.hpp"
#include "aws/imds.hpp"
#include "aws/profile_files.hpp"
#include "aws/retry.hpp"
#include "config/config.hpp"
#include "net/proxy.hpp"

namespace sab::metrics {
class Metrics;
}

namespace sab::aws {

enum class CredentialSource {
  config,
  environment,
  web_identity,
  shared_file,
  container,
  imds,
  none
};
std::string_view to_string(CredentialSource source);

struct WebIdentity {
  std::string role_arn;
  std::string token_file;
  std::string session_name;
};

struct SourceChoice {
  CredentialSource source = CredentialSource::none;
  Credentials credentials;             // config and environment
  WebIdentity web_identity;            // web_identity
  std::optional<ProfilePlan> profile;  // shared_file
  std::string region;                  // region of the selected profile (for STS), may be empty
  std::string description;             // where the credentials come from, for logs (no secrets)
  std::string error;                   // why there is no source (source none), for messages
  std::vector<std::string> tried;      // the sources before this one, each with why it did not
                                       // apply: for the message when IMDS fails too
};

// Picks the first source of the chain that is configured. The container source is chosen when its
// variables are set, IMDS when nothing before applies and it is not disabled: whether they answer
// is found out by the provider. A broken source (only one of the two environment keys, a profile
// without a secret, a source_profile cycle, a named profile that does not exist) is an error,
// reported in `error` with source none, rather than silently falling through.
SourceChoice choose_source(const config::Config& config, const config::Env& env,
                           const FileReader& read_file);

// "no AWS credentials found; tried: ..." listing `tried` in order.
std::string no_credentials_message(const std::vector<std::string>& tried);

struct ChainOptions {
  WallClock clock = [] { return std::chrono::system_clock::now(); };
  FileReader read_file = real_file_reader();
  std::chrono::milliseconds sts_timeout{30'000};
  // STS transport errors, 5xx and throttling are retried this often (then the get() fails and the
  // next get() tries again).
  RetryPolicy sts_retry{2, std::chrono::milliseconds{500}, std::chrono::milliseconds{2000}};
  int duration_seconds = 3600;
  std::string ca_file;  // for an https STS or container endpoint; empty: system CAs
  ProcessOptions process;
  ContainerOptions container;
  ImdsOptions imds;
  net::ProxySettings proxies;  // STS (and container endpoints not link-local) go through it
};

// The SDK chain plus optional AssumeRole on top (see the top of this file). Use it from one
// strand: concurrent get() calls during a refresh would each call STS.
class ChainCredentialProvider : public CredentialProvider {
 public:
  ChainCredentialProvider(boost::asio::any_io_executor executor, const config::Config& config,
                          config::Env env, metrics::Metrics* metrics, ChainOptions options = {});
  ~ChainCredentialProvider() override;
  boost::asio::awaitable<Credentials> get() override;
  void invalidate() override;

 private:
  boost::asio::awaitable<Credentials> fetch();
  // The credentials of the chosen source, before the config's role_arn.
  boost::asio::awaitable<Credentials> base_credentials(const SourceChoice& choice);
  boost::asio::awaitable<Credentials> profile_credentials(const ProfilePlan& plan);
  boost::asio::awaitable<Credentials> profile_base(const ProfilePlan& plan);
  boost::asio::awaitable<Credentials> web_identity_credentials(const WebIdentity& identity,
                                                               std::string_view region);
  boost::asio::awaitable<Credentials> sts_call(std::string body, const Credentials* signer,
                                               std::string_view region);
  ContainerOptions container_options() const;

  boost::asio::any_io_executor executor_;
  config::Config config_;
  config::Env env_;
  metrics::Metrics* metrics_;
  ChainOptions options_;
  std::optional<Credentials> cached_;
};

}  // namespace sab::aws
