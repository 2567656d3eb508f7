#include "net/proxy.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sab::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// "host", "host:port", "[v6]:port", "v6" -> the host without port or brackets.
std::string_view entry_host(std::string_view entry) {
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    return close == std::string_view::npos ? entry.substr(1) : entry.substr(1, close - 1);
  }
  // More than one colon: an IPv6 address (with or without a /prefix), no port.
  if (std::count(entry.begin(), entry.end(), ':') == 1) return entry.substr(0, entry.find(':'));
  return entry;
}

// `host` (an IP literal) lies in `entry` (an address or a CIDR block).
bool ip_matches(std::string_view entry, const boost::asio::ip::address& host) {
  namespace ip = boost::asio::ip;
  const auto slash = entry.find('/');
  boost::system::error_code ec;
  const auto net = ip::make_address(std::string(entry.substr(0, slash)), ec);
  if (ec) return false;
  if (slash == std::string_view::npos) return net == host;
  int prefix = -1;
  try {
    prefix = std::stoi(std::string(entry.substr(slash + 1)));
  } catch (const std::exception&) {
    return false;
  }
  if (net.is_v4() != host.is_v4()) return false;
  std::vector<unsigned char> a, b;
  if (net.is_v4()) {
    const auto x = net.to_v4().to_bytes(), y = host.to_v4().to_bytes();
    a.assign(x.begin(), x.end());
    b.assign(y.begin(), y.end());
  } else {
    const auto x = net.to_v6().to_bytes(), y = host.to_v6().to_bytes();
    a.assign(x.begin(), x.end());
    b.assign(y.begin(), y.end());
  }
  if (prefix < 0 || prefix > static_cast<int>(a.size() * 8)) return false;
  for (std::size_t bit = 0; bit < static_cast<std::size_t>(prefix); ++bit) {
    const auto mask = static_cast<unsigned char>(0x80U >> (bit % 8));
    if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
  }
  return true;
}

bool name_matches(std::string_view entry, std::string_view host) {
  if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
  if (entry.empty()) return false;
  if (host == entry) return true;
  return host.size() > entry.size() && host.ends_with(entry) &&
         host[host.size() - entry.size() - 1] == '.';
}

std::optional<std::string> first_set(const EnvLookup& env, std::initializer_list<const char*> names,
                                     std::string& which) {
  for (const char* name : names) {
    if (auto v = env(name); v && !v->empty()) {
      which = name;
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

ParsedProxy parse_proxy_url(std::string_view text) {
  ParsedProxy out;
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    out.error = "is not a URL like http://proxy.example:3128";
    return out;
  }
  const auto& u = *parsed;
  if (lower(u.scheme()) != "http") {
    out.error = "must be an http:// URL (the tunnel to https origins is made with CONNECT)";
    return out;
  }
  const std::string bare = "http://" + std::string(u.encoded_host_and_port());
  auto url = parse_url(bare);
  if (!url) {
    out.error = "has no host";
    return out;
  }
  if (!u.has_port()) {
    // http:// without a port means 80 (curl would assume 1080: give the port to be sure).
    url->port = "80";
  }
  ProxyEndpoint proxy;
  proxy.url = std::move(*url);
  if (u.has_userinfo()) {
    std::string userinfo = u.user() + ":" + u.password();
    proxy.authorization = "Basic " + base64(userinfo);
    OPENSSL_cleanse(userinfo.data(), userinfo.size());
  }
  proxy.display = mask_proxy_url(text);
  out.proxy = std::move(proxy);
  return out;
}

std::string mask_proxy_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed || !parsed->has_password()) {
    // Not a URL: mask everything between "://" and '@', if any, rather than show a password.
    const auto at = text.rfind('@');
    const auto scheme = text.find("://");
    if (at == std::string_view::npos || scheme == std::string_view::npos || at < scheme) {
      return std::string(text);
    }
    return std::string(text.substr(0, scheme + 3)) + "***" + std::string(text.substr(at));
  }
  const auto& u = *parsed;
  return std::string(u.scheme()) + "://" + std::string(u.encoded_user()) + ":***@" +
         std::string(u.encoded_host_and_port()) + std::string(u.encoded_path());
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_in) {
  const std::string host = lower(host_in);
  boost::system::error_code ec;
  const auto host_ip = boost::asio::ip::make_address(host, ec);
  const bool is_ip = !ec;
  std::size_t pos = 0;
  while (pos < no_proxy.size()) {
    const auto end = no_proxy.find_first_of(", \t", pos);
    const std::string entry =
        lower(no_proxy.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = end == std::string_view::npos ? no_proxy.size() : end + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    const std::string_view e = entry_host(entry);
    if (is_ip ? ip_matches(e, host_ip) : name_matches(e, host)) return true;
  }
  return false;
}

ProxySettings::ProxySettings(std::string_view configured_url, std::string_view configured_no_proxy,
                             const EnvLookup& env) {
  auto use = [](std::string_view text, const std::string& source) {
    auto parsed = parse_proxy_url(text);
    if (!parsed.proxy) {
      throw std::invalid_argument(source + " " + parsed.error + " (" + mask_proxy_url(text) + ")");
    }
    return std::move(*parsed.proxy);
  };
  std::string which;
  if (!configured_url.empty()) {
    http_ = use(configured_url, "proxy.url");
    https_ = http_;
    no_proxy_ = std::string(configured_no_proxy);
    return;
  }
  if (auto v = first_set(env, {"https_proxy", "HTTPS_PROXY"}, which)) https_ = use(*v, which);
  if (auto v = first_set(env, {"http_proxy", "HTTP_PROXY"}, which)) http_ = use(*v, which);
  if (!configured_no_proxy.empty()) {
    no_proxy_ = std::string(configured_no_proxy);
  } else if (auto v = first_set(env, {"no_proxy", "NO_PROXY"}, which)) {
    no_proxy_ = *v;
  }
}

std::optional<ProxyEndpoint> ProxySettings::for_origin(const Url& origin) const {
  const auto& proxy = origin.tls ? https_ : http_;
  if (!proxy || no_proxy_matches(no_proxy_, origin.host)) return std::nullopt;
  return proxy;
}

std::string ProxySettings::describe() const {
  if (empty()) return "none";
  std::string out;
  if (https_) out += "https via " + https_->display;
  if (http_) out += std::string(out.empty() ? "" : ", ") + "http via " + http_->display;
  if (!no_proxy_.empty()) out += ", no_proxy " + no_proxy_;
  return out;
}

std::pair<std::string, std::size_t> absolute_form_prefix(std::string_view head, const Url& origin,
                                                         const ProxyEndpoint& proxy) {
  // "<method> <target> HTTP/1.1\r\n" -> "<method> http://<host><target> HTTP/1.1\r\n"
  const auto line_end = head.find("\r\n");
  const auto sp = head.find(' ');
  std::string out;
  out.reserve(line_end + origin.host_header.size() + 64);
  out.append(head.substr(0, sp + 1));
  out += "http://";
  out += origin.host_header;
  out.append(head.substr(sp + 1, line_end - sp - 1));
  out += "\r\n";
  if (!proxy.authorization.empty()) {
    out += "Proxy-Authorization: ";
    out += proxy.authorization;
    out += "\r\n";
  }
  return {std::move(out), line_end + 2};
}

std::string connect_request(const Url& origin, const ProxyEndpoint& proxy) {
  // The authority always carries the port (RFC 9110 §9.3.6); brackets for IPv6.
  const bool v6 = origin.host.find(':') != std::string::npos;
  const std::string authority = (v6 ? "[" + origin.host + "]" : origin.host) + ":" + origin.port;
  std::string out = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!proxy.authorization.empty()) out += "Proxy-Authorization: " + proxy.authorization + "\r\n";
  out += "\r\n";
  return out;
}

}  // namespace sab::net
