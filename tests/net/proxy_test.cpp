#include "net/proxy.hpp"

#include <doctest/doctest.h>

#include <map>
#include <stdexcept>

using namespace sab::net;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Url url(std::string_view text) {
  auto u = parse_url(text);
  REQUIRE(u);
  return *u;
}

}  // namespace

TEST_CASE("proxy: URLs, Basic credentials and masking") {
  auto p = parse_proxy_url("http://alice:s%40cret@proxy.corp:3128");
  REQUIRE(p.proxy);
  CHECK(p.proxy->url.host == "proxy.corp");
  CHECK(p.proxy->url.port == "3128");
  // base64("alice:s@cret"), the password percent-decoded as RFC 3986 says.
  CHECK(p.proxy->authorization == "Basic YWxpY2U6c0BjcmV0");
  CHECK(p.proxy->display == "http://alice:***@proxy.corp:3128");
  CHECK(p.proxy->display.find("cret") == std::string::npos);

  auto plain = parse_proxy_url("http://proxy.corp");
  REQUIRE(plain.proxy);
  CHECK(plain.proxy->url.port == "80");
  CHECK(plain.proxy->authorization.empty());
  CHECK(plain.proxy->display == "http://proxy.corp");

  auto v6 = parse_proxy_url("http://[::1]:8888");
  REQUIRE(v6.proxy);
  CHECK(v6.proxy->url.host == "::1");

  CHECK_FALSE(parse_proxy_url("https://proxy.corp:3128").proxy);
  CHECK_FALSE(parse_proxy_url("socks5://proxy.corp:1080").proxy);
  CHECK_FALSE(parse_proxy_url("proxy.corp:3128").proxy);
  const auto bad = parse_proxy_url("not a url with pass:word@host");
  CHECK_FALSE(bad.proxy);
  CHECK(bad.error.find("word") == std::string::npos);
  CHECK(mask_proxy_url("http://u:p4ss@h:1/") == "http://u:***@h:1/");
  CHECK(mask_proxy_url("http://u:p4ss@bad host") == "http://***@bad host");
  CHECK(mask_proxy_url("weird://u:p4ss@h@x").find("p4ss") == std::string::npos);
}

TEST_CASE("proxy: NO_PROXY entries") {
  CHECK(no_proxy_matches("*", "anything.example"));
  CHECK(no_proxy_matches("example.com", "example.com"));
  CHECK(no_proxy_matches("example.com", "api.example.com"));
  CHECK(no_proxy_matches(".example.com", "api.example.com"));
  CHECK(no_proxy_matches(".example.com", "example.com"));
  CHECK_FALSE(no_proxy_matches("example.com", "badexample.com"));
  CHECK(no_proxy_matches("EXAMPLE.com", "Api.Example.COM"));
  CHECK(no_proxy_matches("other, sink.local:8080 ,x", "sink.local"));
  CHECK(no_proxy_matches("localhost 127.0.0.1", "127.0.0.1"));
  CHECK(no_proxy_matches("10.0.0.0/8", "10.1.2.3"));
  CHECK_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3"));
  CHECK(no_proxy_matches("169.254.0.0/16", "169.254.170.2"));
  CHECK(no_proxy_matches("fd00:ec2::/32", "fd00:ec2::23"));
  CHECK(no_proxy_matches("[::1]", "::1"));
  CHECK_FALSE(no_proxy_matches("10.0.0.0/8", "ten.example"));
  CHECK_FALSE(no_proxy_matches("10.0.0.0/40", "10.0.0.1"));
  CHECK_FALSE(no_proxy_matches("", "example.com"));
  // Loopback is proxied unless named, as with curl and botocore.
  CHECK_FALSE(no_proxy_matches("example.com", "127.0.0.1"));
}

TEST_CASE("proxy: settings from the config win over the environment") {
  const auto env = env_of({{"HTTPS_PROXY", "http://env-https:1"},
                           {"http_proxy", "http://env-http-lower:2"},
                           {"HTTP_PROXY", "http://env-http-upper:3"},
                           {"NO_PROXY", "sink.local"}});
  const ProxySettings from_env("", "", env);
  REQUIRE(from_env.for_origin(url("https://ce.us-east-1.amazonaws.com")));
  CHECK(from_env.for_origin(url("https://ce.us-east-1.amazonaws.com"))->url.host == "env-https");
  // Lower case wins, as with curl and botocore.
  CHECK(from_env.for_origin(url("http://sink.example/"))->url.host == "env-http-lower");
  CHECK_FALSE(from_env.for_origin(url("http://sink.local:8080/")));

  const ProxySettings configured("http://u:pw@configured:3128", "", env);
  CHECK(configured.for_origin(url("https://sts.amazonaws.com"))->url.host == "configured");
  CHECK(configured.for_origin(url("http://sink.local/"))->url.host == "configured");
  CHECK(configured.describe().find("pw") == std::string::npos);

  const ProxySettings none("", "", env_of({}));
  CHECK(none.empty());
  CHECK_FALSE(none.for_origin(url("https://ce.us-east-1.amazonaws.com")));
  CHECK(none.describe() == "none");

  CHECK_THROWS_WITH_AS(ProxySettings("ftp://x", "", env), doctest::Contains("proxy.url"),
                       std::invalid_argument);
  try {
    ProxySettings("", "", env_of({{"HTTPS_PROXY", "https://u:hunter2@p:1"}}));
    FAIL("an https proxy URL is refused");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("HTTPS_PROXY") != std::string::npos);
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  }
}

TEST_CASE("proxy: absolute-form requests and CONNECT") {
  ProxyEndpoint proxy = *parse_proxy_url("http://u:p@proxy:3128").proxy;
  const std::string head = "POST /events HTTP/1.1\r\nHost: sink:8080\r\nX: y\r\n\r\n";
  auto [prefix, rest] = absolute_form_prefix(head, url("http://sink:8080/events"), proxy);
  CHECK(prefix == "POST http://sink:8080/events HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n");
  CHECK(head.substr(rest) == "Host: sink:8080\r\nX: y\r\n\r\n");

  CHECK(connect_request(url("https://ce.us-east-1.amazonaws.com"), proxy) ==
        "CONNECT ce.us-east-1.amazonaws.com:443 HTTP/1.1\r\nHost: "
        "ce.us-east-1.amazonaws.com:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n");
  ProxyEndpoint anonymous = *parse_proxy_url("http://proxy:3128").proxy;
  CHECK(connect_request(url("https://[::1]:8443/x"), anonymous) ==
        "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
}
