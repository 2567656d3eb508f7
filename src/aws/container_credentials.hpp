#pragma once

// Container credentials: ECS task roles (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, host
// 169.254.170.2) and EKS Pod Identity or other agents (AWS_CONTAINER_CREDENTIALS_FULL_URI), with
// the Authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read at every fetch) or
// AWS_CONTAINER_AUTHORIZATION_TOKEN. The endpoint rules and the answer are pure; the fetch is thin.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "config/config.hpp"
#include "net/http_client.hpp"
#include "net/proxy.hpp"
#include "net/url.hpp"

namespace sab::aws {

inline constexpr std::string_view kEcsCredentialsHost = "169.254.170.2";

// True when AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI is set.
bool container_configured(const config::Env& env);

// Whether plain http may go to `host` (as botocore allows): a loopback address, "localhost",
// 169.254.170.2 (ECS), 169.254.170.23 or fd00:ec2::23 (EKS Pod Identity). https may go anywhere.
bool container_host_allowed(std::string_view host);
// Loopback, 169.254.0.0/16, fe80::/10 or fd00:ec2::23: reached directly, never through a proxy.
bool is_local_host(std::string_view host);

struct ContainerEndpoint {
  net::Url url;
  std::string variable;  // the variable it came from
  std::string shown;     // scheme://host[:port] for messages (the path may be a capability)
};

// RELATIVE_URI (wins) appended to http://169.254.170.2, else FULL_URI. CredentialError naming the
// variable for a malformed URI or plain http to a host that is not allowed.
ContainerEndpoint container_endpoint(const config::Env& env);

// The Authorization header: the token file's content (surrounding blanks and line ends removed),
// else AWS_CONTAINER_AUTHORIZATION_TOKEN, else nullopt. CredentialError when the file cannot be
// read or is empty, or the token holds CR or LF.
std::optional<std::string> container_authorization(const config::Env& env,
                                                   const FileReader& read_file);

// GET with Accept: application/json and the Authorization header when there is one.
net::Request container_request(const net::Url& url,
                               const std::optional<std::string>& authorization);

// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", ...}: CredentialError when it is not
// that (never quoting the body).
Credentials parse_container_credentials(std::string_view body);

struct ContainerOptions {
  std::chrono::milliseconds timeout{2'000};  // per attempt
  int attempts = 2;                          // transport errors, 5xx and 429 are tried again
  std::string ca_file;                       // for an https endpoint; empty: system CAs
  net::ProxySettings proxies;  // for an endpoint that is neither loopback nor link-local
};

// One fetch from the endpoint the environment names: straight to a loopback or link-local one
// (the ECS agent, EKS Pod Identity), through the proxy of `options` to any other.
// CredentialError naming the source on any failure.
boost::asio::awaitable<Credentials> container_credentials(boost::asio::any_io_executor executor,
                                                          config::Env env, FileReader read_file,
                                                          ContainerOptions options);

}  // namespace sab::aws
