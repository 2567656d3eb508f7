#include "aws/container_credentials.hpp"

#include <openssl/crypto.h>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <memory>

#include "aws/credential_json.hpp"
#include "aws/text.hpp"

namespace sab::aws {

namespace {

constexpr std::string_view kRelative = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr std::string_view kFull = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr std::string_view kTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
constexpr std::string_view kToken = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string shown_origin(const net::Url& url) {
  return std::string(url.tls ? "https://" : "http://") + url.host_header;
}

}  // namespace

bool container_configured(const config::Env& env) {
  return !text::env_or(env, kRelative).empty() || !text::env_or(env, kFull).empty();
}

namespace {

// The address of an IP literal, or loopback for "localhost"; nullopt for any other name.
std::optional<boost::asio::ip::address> address_of(std::string_view host) {
  if (text::lower(std::string(host)) == "localhost") return boost::asio::ip::address_v4::loopback();
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return address;
}

}  // namespace

bool is_local_host(std::string_view host) {
  const auto address = address_of(host);
  if (!address) return false;
  if (address->is_loopback()) return true;
  if (address->is_v4()) return (address->to_v4().to_uint() >> 16) == 0xA9FEU;  // 169.254.0.0/16
  return address->to_v6().is_link_local() ||
         *address == boost::asio::ip::make_address("fd00:ec2::23");
}

bool container_host_allowed(std::string_view host) {
  const auto address = address_of(host);
  if (!address) return false;
  if (address->is_loopback()) return true;
  for (const char* allowed : {"169.254.170.2", "169.254.170.23", "fd00:ec2::23"}) {
    if (*address == boost::asio::ip::make_address(allowed)) return true;
  }
  return false;
}

ContainerEndpoint container_endpoint(const config::Env& env) {
  ContainerEndpoint out;
  std::string text;
  if (const std::string relative = text::env_or(env, kRelative); !relative.empty()) {
    out.variable = std::string(kRelative);
    text = "http://" + std::string(kEcsCredentialsHost) +
           (relative.front() == '/' ? relative : "/" + relative);
  } else {
    out.variable = std::string(kFull);
    text = text::env_or(env, kFull);
  }
  auto url = net::parse_url(text);
  if (!url) {
    throw CredentialError("container credentials: " + out.variable + " is not an http(s) URL");
  }
  out.url = std::move(*url);
  out.shown = shown_origin(out.url);
  if (!out.url.tls && !container_host_allowed(out.url.host)) {
    throw CredentialError("container credentials: " + out.variable + " names host " + out.url.host +
                          ", which plain http may not reach: use https, a loopback address, "
                          "169.254.170.2, 169.254.170.23 or fd00:ec2::23");
  }
  return out;
}

std::optional<std::string> container_authorization(const config::Env& env,
                                                   const FileReader& read_file) {
  std::string token;
  if (const std::string path = text::env_or(env, kTokenFile); !path.empty()) {
    auto content = read_file(path);
    if (!content) {
      throw CredentialError("container credentials: cannot read the authorization token file " +
                            path + " (" + std::string(kTokenFile) + ")");
    }
    token = text::trim(*content);
    cleanse(*content);
    if (token.empty()) {
      throw CredentialError("container credentials: the authorization token file " + path +
                            " is empty");
    }
  } else {
    token = text::env_or(env, kToken);
    if (token.empty()) return std::nullopt;
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    cleanse(token);
    throw CredentialError(
        "container credentials: the authorization token holds a line break (not a valid "
        "header value)");
  }
  return token;
}

net::Request container_request(const net::Url& url,
                               const std::optional<std::string>& authorization) {
  net::Request req;
  req.method(boost::beast::http::verb::get);
  req.target(url.target);
  req.set(boost::beast::http::field::host, url.host_header);
  req.set(boost::beast::http::field::accept, "application/json");
  if (authorization) req.set(boost::beast::http::field::authorization, *authorization);
  return req;
}

Credentials parse_container_credentials(std::string_view body) {
  return credentials_from_json(body, {"container credentials", "Token", true, true},
                               "container credentials: the answer is no JSON object");
}

namespace {

// One exchange; the status and body, or a TransportError.
boost::asio::awaitable<net::Response> exchange(net::HttpClient& client, const net::Url& url,
                                               const std::optional<std::string>& authorization,
                                               std::chrono::milliseconds timeout) {
  net::Request req = container_request(url, authorization);
  net::Response resp = co_await client.send(std::move(req), timeout, std::uint64_t{64} * 1024);
  co_return resp;
}

}  // namespace

boost::asio::awaitable<Credentials> container_credentials(boost::asio::any_io_executor executor,
                                                          config::Env env, FileReader read_file,
                                                          ContainerOptions options) {
  const ContainerEndpoint endpoint = container_endpoint(env);
  std::optional<std::string> authorization = container_authorization(env, read_file);
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (endpoint.url.tls) tls = net::make_client_tls_context({options.ca_file, false});
  // A client of its own. As the SDKs do, a proxy never sees the agent next to the task or pod.
  net::HttpClient client(
      std::move(executor), endpoint.url, tls,
      is_local_host(endpoint.url.host) ? std::nullopt : options.proxies.for_origin(endpoint.url));
  const std::string what =
      "container credentials (" + endpoint.variable + ", " + endpoint.shown + ")";
  std::string problem;
  for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
    bool again = false;
    try {
      net::Response resp = co_await exchange(client, endpoint.url, authorization, options.timeout);
      const unsigned status = resp.result_int();
      if (status == 200) {
        if (authorization) cleanse(*authorization);
        try {
          Credentials c = parse_container_credentials(resp.body());
          cleanse(resp.body());
          co_return c;
        } catch (const CredentialError& e) {
          cleanse(resp.body());
          throw CredentialError(what + ": " + e.what());
        }
      }
      cleanse(resp.body());
      problem = "answered HTTP " + std::to_string(status);
      again = status >= 500 || status == 429;
    } catch (const net::TransportError& e) {
      problem = std::string("request failed: ") + e.what();
      again = e.kind() != net::TransportErrorKind::tls;
    }
    if (!again) break;
  }
  if (authorization) cleanse(*authorization);
  throw CredentialError(what + ": " + problem);
}

}  // namespace sab::aws
