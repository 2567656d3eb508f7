#pragma once

// AWS credentials and the provider chain, in the order of the AWS SDKs:
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
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "aws/retry.hpp"
#include "config/config.hpp"

namespace sab::metrics {
class Metrics;
}

namespace sab::aws {

using TimePoint = std::chrono::system_clock::time_point;
using WallClock = std::function<TimePoint()>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // secret: never log
  std::string session_token;      // secret: never log
  std::optional<TimePoint> expiration;

  bool complete() const { return !access_key_id.empty() && !secret_access_key.empty(); }
};

// Overwrites the secret parts with zeros (OPENSSL_cleanse) and clears them.
void wipe(Credentials& credentials);

class CredentialError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::chrono::minutes kRefreshMargin{5};

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

// Reads a whole file; nullopt when it cannot be read. Injectable for tests.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
FileReader real_file_reader();

// Picks the first source of the chain that is configured. An incomplete source (only one of the
// two environment keys, a profile without a secret) is an error, reported in `error` with
// source none, rather than silently falling through.
SourceChoice choose_source(const config::Config& config, const config::Env& env,
                           const FileReader& read_file);

// The [profile] section of an AWS shared credentials file (INI: '#' and ';' comments, keys
// case-insensitive, whitespace around '=' ignored). nullopt when the profile is not there;
// CredentialError when it is there but lacks a key.
std::optional<Credentials> parse_shared_credentials(std::string_view ini, std::string_view profile);

// --- STS -------------------------------------------------------------------------------------

struct StsEndpoint {
  std::string url;     // e.g. https://sts.eu-west-1.amazonaws.com
  std::string region;  // signing region
};

// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional endpoint of AWS_REGION /
// AWS_DEFAULT_REGION / the config's region (.amazonaws.com.cn for cn-* regions).
StsEndpoint sts_endpoint(const config::Config& config, const config::Env& env);

// application/x-www-form-urlencoded encoding of one value.
std::string form_encode(std::string_view value);

std::string assume_role_body(std::string_view role_arn, std::string_view session_name,
                             std::string_view external_id, int duration_seconds);
std::string web_identity_body(std::string_view role_arn, std::string_view session_name,
                              std::string_view token, int duration_seconds);

// The <Credentials> of an AssumeRole / AssumeRoleWithWebIdentity response. Throws
// CredentialError with STS's error code and message for an <ErrorResponse>, or on a malformed
// body.
Credentials parse_sts_response(std::string_view xml);

// "2015-08-30T12:36:00Z" (fractional seconds allowed) -> time point; nullopt when malformed.
std::optional<TimePoint> parse_iso8601(std::string_view text);

// True when `credentials` must be fetched again at `now`.
bool needs_refresh(const Credentials& credentials, TimePoint now);

// --- providers -------------------------------------------------------------------------------

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // Current credentials, refreshed when they expire within kRefreshMargin (when that refresh
  // fails, the current ones serve until they really expire). Throws CredentialError when none
  // can be obtained.
  virtual boost::asio::awaitable<Credentials> get() = 0;
  // The next get() fetches fresh credentials (e.g. after an ExpiredToken answer).
  virtual void invalidate() {}
};

// Fixed credentials (tests; and a base for nothing else).
class StaticCredentialProvider : public CredentialProvider {
 public:
  explicit StaticCredentialProvider(Credentials credentials)
      : credentials_(std::move(credentials)) {}
  ~StaticCredentialProvider() override { wipe(credentials_); }
  boost::asio::awaitable<Credentials> get() override;

 private:
  Credentials credentials_;
};

struct ChainOptions {
  WallClock clock = [] { return std::chrono::system_clock::now(); };
  FileReader read_file = real_file_reader();
  std::chrono::milliseconds sts_timeout{30'000};
  // STS transport errors, 5xx and throttling are retried this often (then the get() fails and the
  // next get() tries again).
  RetryPolicy sts_retry{2, std::chrono::milliseconds{500}, std::chrono::milliseconds{2000}};
  int duration_seconds = 3600;
  std::string ca_file;  // for an https STS endpoint; empty: system CAs
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
