#pragma once

// EC2 instance metadata credentials, IMDSv2 only: a session token (PUT /latest/api/token with a
// TTL), the instance profile's role name, then its credentials. The endpoint
// (AWS_EC2_METADATA_SERVICE_ENDPOINT, _ENDPOINT_MODE=IPv6), AWS_EC2_METADATA_DISABLED, the requests
// and answers are pure; the fetch is thin: short timeouts, one retry, never through a proxy.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "config/config.hpp"
#include "net/http_client.hpp"
#include "net/url.hpp"

namespace sab::aws {

inline constexpr std::string_view kImdsEndpoint = "http://169.254.169.254";
inline constexpr std::string_view kImdsEndpointIpv6 = "http://[fd00:ec2::254]";
inline constexpr std::string_view kImdsCredentialsPath =
    "/latest/meta-data/iam/security-credentials/";

struct ImdsSettings {
  bool disabled = false;  // AWS_EC2_METADATA_DISABLED=true (any case)
  std::string endpoint;   // the base URL
};

// AWS_EC2_METADATA_SERVICE_ENDPOINT wins, else the IPv6 address with
// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6, else 169.254.169.254.
ImdsSettings imds_settings(const config::Env& env);

// The base URL's target joined with `path` ("/latest/..."): a base with a path keeps it.
std::string imds_target(const net::Url& base, std::string_view path);

// PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds.
net::Request imds_token_request(const net::Url& base, int ttl_seconds);
// GET `path` with X-aws-ec2-metadata-token.
net::Request imds_get_request(const net::Url& base, std::string_view path, std::string_view token);

// The first line of the security-credentials listing. CredentialError when it is empty or is no
// plain role name (letters, digits and +=,.@_-).
std::string parse_imds_role(std::string_view listing);

// {"Code": "Success", "AccessKeyId", "SecretAccessKey", "Token", "Expiration", ...}:
// CredentialError (with IMDS's Code when it is not Success; never quoting secrets) when it is not
// that.
Credentials parse_imds_credentials(std::string_view body);

struct ImdsOptions {
  std::chrono::milliseconds timeout{1'000};  // per request
  int attempts = 2;                          // a request that times out or fails is sent again once
  int token_ttl_seconds = 300;               // the token serves this one fetch only
};

// Token, role, credentials. CredentialError naming IMDS and the step on any failure; without
// IMDS (nothing answers) that takes about attempts x timeout.
boost::asio::awaitable<Credentials> imds_credentials(boost::asio::any_io_executor executor,
                                                     ImdsSettings settings, ImdsOptions options);

}  // namespace sab::aws
