#pragma once

// The credential provider chain: which source gives the AWS credentials, in the order of the
// AWS SDKs, and the provider that loads, caches and refreshes them.
//
//   1. static keys from the config (secret.*)
//   2. environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]
//   3. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE [+ AWS_ROLE_SESSION_NAME]
//      (STS AssumeRoleWithWebIdentity, unsigned)
//   4. shared credentials file: AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials),
//      profile AWS_PROFILE (default "default")
// and then, when the config has role_arn, STS AssumeRole (signed with the above) on top.
// Temporary credentials are refreshed `kRefreshMargin` before they expire.
//
// The choice of source, INI parsing and STS request/response handling are pure functions; the
// provider class does the STS calls.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "aws/retry.hpp"
#include "aws/shared_credentials.hpp"
#include "config/config.hpp"
#include "net/proxy.hpp"

namespace sab::metrics {
class Metrics;
}

namespace sab::aws {

enum class CredentialSource { config, environment, web_identity, shared_file, none };
std::string_view to_string(CredentialSource source);

struct WebIdentity {
  std::string role_arn;
  std::string token_file;
  std::string session_name;
};

struct SourceChoice {
  CredentialSource source = CredentialSource::none;
  Credentials credentials;   // config, environment and shared_file
  WebIdentity web_identity;  // web_identity
  std::string description;   // where the credentials come from, for logs (no secrets)
  std::string error;         // a problem found on the way (e.g. a half-set pair), for messages
};

// Picks the first source of the chain that is configured. An incomplete source (only one of the
// two environment keys, a profile without a secret) is an error, reported in `error` with
// source none, rather than silently falling through.
SourceChoice choose_source(const config::Config& config, const config::Env& env,
                           const FileReader& read_file);

struct ChainOptions {
  WallClock clock = [] { return std::chrono::system_clock::now(); };
  FileReader read_file = real_file_reader();
  std::chrono::milliseconds sts_timeout{30'000};
  // STS transport errors, 5xx and throttling are retried this often (then the get() fails and the
  // next get() tries again).
  RetryPolicy sts_retry{2, std::chrono::milliseconds{500}, std::chrono::milliseconds{2000}};
  int duration_seconds = 3600;
  std::string ca_file;         // for an https STS endpoint; empty: system CAs
  net::ProxySettings proxies;  // STS goes through its proxy, if any
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
  boost::asio::awaitable<Credentials> sts_call(std::string body, const Credentials* signer);

  boost::asio::any_io_executor executor_;
  config::Config config_;
  config::Env env_;
  metrics::Metrics* metrics_;
  ChainOptions options_;
  std::optional<Credentials> cached_;
};

}  // namespace sab::aws
