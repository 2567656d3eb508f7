#include "aws/imds.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <functional>
#include <memory>

#include "aws/credential_json.hpp"
#include "aws/text.hpp"

namespace sab::aws {

namespace {

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

bool role_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("+=,.@_-").find(c) != std::string_view::npos;
}

}  // namespace

ImdsSettings imds_settings(const config::Env& env) {
  ImdsSettings out;
  out.disabled = text::lower(text::env_or(env, "AWS_EC2_METADATA_DISABLED")) == "true";
  out.endpoint = text::env_or(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (out.endpoint.empty()) {
    const bool ipv6 =
        text::lower(text::env_or(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")) == "ipv6";
    out.endpoint = std::string(ipv6 ? kImdsEndpointIpv6 : kImdsEndpoint);
  }
  return out;
}

std::string imds_target(const net::Url& base, std::string_view path) {
  std::string target = base.target;
  if (const auto q = target.find('?'); q != std::string::npos) target.resize(q);
  while (!target.empty() && target.back() == '/')
    target.pop_back();
  return target + std::string(path);
}

net::Request imds_token_request(const net::Url& base, int ttl_seconds) {
  net::Request req;
  req.method(boost::beast::http::verb::put);
  req.target(imds_target(base, "/latest/api/token"));
  req.set(boost::beast::http::field::host, base.host_header);
  req.set("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(ttl_seconds));
  return req;
}

net::Request imds_get_request(const net::Url& base, std::string_view path, std::string_view token) {
  net::Request req;
  req.method(boost::beast::http::verb::get);
  req.target(imds_target(base, path));
  req.set(boost::beast::http::field::host, base.host_header);
  req.set("X-aws-ec2-metadata-token", token);
  return req;
}

std::string parse_imds_role(std::string_view listing) {
  std::string role = text::trim(listing.substr(0, listing.find('\n')));
  if (role.empty()) throw CredentialError("IMDS lists no instance profile role");
  if (role.size() > 128 || !std::all_of(role.begin(), role.end(), role_char)) {
    throw CredentialError("IMDS lists a role name that is not one (" + std::to_string(role.size()) +
                          " bytes)");
  }
  return role;
}

Credentials parse_imds_credentials(std::string_view body) {
  return credentials_from_json(
      body, {"IMDS", "Token", true, true}, "IMDS credentials are no JSON object",
      [](const JsonMembers& members) {
        const auto code = members.find("Code");
        if (code == members.end() || code->second.value == "Success") return;
        const auto message = members.find("Message");
        throw CredentialError(
            "IMDS answered Code " + code->second.value.substr(0, 64) +
            (message == members.end() ? "" : ": " + message->second.value.substr(0, 200)));
      });
}

namespace {

// One IMDS step, sent up to `attempts` times while it times out, fails in transport or gets a 5xx.
// Returns the 200 answer's body; CredentialError "<step>: <problem>" otherwise.
boost::asio::awaitable<std::string> imds_step(net::HttpClient& client, std::string_view step,
                                              const std::function<net::Request()>& make,
                                              const ImdsOptions& options) {
  std::string problem;
  const int attempts = std::max(1, options.attempts);
  int made = 0;
  while (made < attempts) {
    ++made;
    bool again = false;
    try {
      net::Response resp = co_await client.send(make(), options.timeout, std::uint64_t{64} * 1024);
      const unsigned status = resp.result_int();
      if (status == 200 && !resp.body().empty()) co_return std::move(resp.body());
      cleanse(resp.body());
      problem = "HTTP " + std::to_string(status);
      if (status == 404 && step == "role") problem += " (no instance profile attached)";
      if ((status == 403 || status == 404 || status == 405) && step == "token") {
        problem += " (no IMDSv2 here; IMDSv1 is not used)";
      }
      again = status >= 500;
    } catch (const net::TransportError& e) {
      problem = e.what();
      again = e.kind() != net::TransportErrorKind::tls;
    }
    if (!again) break;
  }
  if (made > 1) problem += " (" + std::to_string(made) + " attempts)";
  throw CredentialError(std::string(step) + " request: " + problem);
}

}  // namespace

boost::asio::awaitable<Credentials> imds_credentials(boost::asio::any_io_executor executor,
                                                     ImdsSettings settings, ImdsOptions options) {
  const std::string what = "IMDS (" + settings.endpoint + ")";
  if (settings.disabled) throw CredentialError(what + ": disabled by AWS_EC2_METADATA_DISABLED");
  const auto base = net::parse_url(settings.endpoint);
  if (!base) throw CredentialError(what + ": not an http(s) URL");
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (base->tls) tls = net::make_client_tls_context({});
  // A client of its own: straight to IMDS, whatever proxy the other clients use.
  net::HttpClient client(std::move(executor), *base, tls);
  std::string token;
  try {
    token = co_await imds_step(
        client, "token", [&] { return imds_token_request(*base, options.token_ttl_seconds); },
        options);
    const std::string listing = co_await imds_step(
        client, "role", [&] { return imds_get_request(*base, kImdsCredentialsPath, token); },
        options);
    const std::string role = parse_imds_role(listing);
    std::string body = co_await imds_step(
        client, "credentials",
        [&] { return imds_get_request(*base, std::string(kImdsCredentialsPath) + role, token); },
        options);
    cleanse(token);
    Credentials c;
    try {
      c = parse_imds_credentials(body);
    } catch (...) {
      cleanse(body);
      throw;
    }
    cleanse(body);
    co_return c;
  } catch (const CredentialError& e) {
    cleanse(token);
    throw CredentialError(what + ": " + e.what());
  }
}

}  // namespace sab::aws
