#pragma once

// http(s) URLs as the service uses them (targets, endpoints): scheme, host, port and target,
// parsed strictly. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace sab::net {

// An http(s) origin plus request target, parsed with Boost.URL.
struct Url {
  bool tls = false;
  std::string host;         // without brackets for IPv6
  std::string port;         // always set: explicit, or 80/443
  std::string target;       // path and query, "/" when empty
  std::string host_header;  // host[:port] as the Host header wants it (port only if explicit)
};

std::optional<Url> parse_url(std::string_view text);

}  // namespace sab::net
