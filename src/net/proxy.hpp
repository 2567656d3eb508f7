#pragma once

// HTTP proxies for outgoing requests: which proxy (if any) an origin goes through, from the
// configured URL or the environment, NO_PROXY matching, and the Basic credentials. Pure.
//
// As with curl and botocore: HTTPS_PROXY for https origins, HTTP_PROXY for http ones (lower case
// wins over upper case), loopback proxied too unless NO_PROXY names it.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/url.hpp"

namespace sab::net {

// One proxy as a connection needs it.
struct ProxyEndpoint {
  Url url;                    // the proxy's origin (http only)
  std::string authorization;  // "Basic <base64>" from the URL's userinfo, or empty; a secret
  std::string display;        // the URL with the password masked, for logs and messages
};

// Parses `http://[user[:password]@]host[:port]`; the error names what is wrong (never the
// password). An https:// proxy URL is refused: TLS to the proxy itself is not supported.
struct ParsedProxy {
  std::optional<ProxyEndpoint> proxy;
  std::string error;
};
ParsedProxy parse_proxy_url(std::string_view text);

// The URL with its password replaced by "***" (the text unchanged when it has none).
std::string mask_proxy_url(std::string_view text);

// True when NO_PROXY-style `no_proxy` (comma- or space-separated) names `host`: "*"; a host
// name matching exactly or as a domain suffix ("example.com" and ".example.com" both match
// "api.example.com"); an IP address, or a CIDR block containing the host's address. Ports in
// entries are ignored. Case-insensitive.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The proxies of a run: from proxy.url / proxy.no_proxy when the config sets them, else from
// the environment.
class ProxySettings {
 public:
  ProxySettings() = default;
  // Throws std::invalid_argument naming the source (proxy.url or the variable) when a URL is
  // unusable.
  ProxySettings(std::string_view configured_url, std::string_view configured_no_proxy,
                const EnvLookup& env);

  // The proxy for `origin`, or none (no proxy configured, or NO_PROXY names its host).
  std::optional<ProxyEndpoint> for_origin(const Url& origin) const;
  bool empty() const { return !http_ && !https_; }
  // One line for the log and --check-config (passwords masked).
  std::string describe() const;

 private:
  std::optional<ProxyEndpoint> http_;   // for http:// origins
  std::optional<ProxyEndpoint> https_;  // for https:// origins (CONNECT tunnels)
  std::string no_proxy_;
};

// The request line of `head` (a request written for an origin server) in absolute form for a
// proxy, plus Proxy-Authorization when `proxy` has credentials: "POST http://host/path HTTP/1.1
// \r\n[Proxy-Authorization: ...\r\n]". The rest of `head` follows unchanged. Returns the prefix
// and the offset in `head` where the rest starts.
std::pair<std::string, std::size_t> absolute_form_prefix(std::string_view head, const Url& origin,
                                                         const ProxyEndpoint& proxy);

// The CONNECT request that opens a tunnel to `origin` through `proxy`.
std::string connect_request(const Url& origin, const ProxyEndpoint& proxy);

}  // namespace sab::net
