#pragma once

// An HTTP/1.1 client over plain TCP or TLS with keep-alive, a deadline on every step and
// per-operation cancellation; used for Cost Explorer, STS and delivery.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/proxy.hpp"
#include "net/url.hpp"

namespace sab::net {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct TlsConfig {
  std::string ca_file;  // empty: the system CAs
  bool insecure_skip_verify = false;
};

// A client TLS context: TLS 1.2+, peer verification against `ca_file` or the system CAs unless
// insecure_skip_verify. Throws std::runtime_error naming the file when the CA file is unusable.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const TlsConfig& tls);

// Why an exchange failed before a complete response arrived.
enum class TransportErrorKind {
  resolve,     // host name did not resolve
  connect,     // TCP connect refused or unreachable
  tls,         // handshake failed, certificate not trusted or host name mismatch
  timeout,     // the per-request deadline passed
  reset,       // connection reset or closed before the response was complete
  too_large,   // the response body exceeded the limit
  protocol,    // not a valid HTTP response
  proxy,       // the proxy refused the tunnel (a 4xx/5xx answer to CONNECT other than 407)
  proxy_auth,  // the proxy wants other credentials (407): fix proxy.url, retrying cannot help
};
std::string_view to_string(TransportErrorKind kind);

class TransportError : public std::runtime_error {
 public:
  TransportError(TransportErrorKind kind, const std::string& what)
      : std::runtime_error(what), kind_(kind) {}
  TransportErrorKind kind() const { return kind_; }

 private:
  TransportErrorKind kind_;
};

// An HTTP/1.1 request head written by hand, for requests sent many times a second (event
// delivery): no per-request field container. The caller keeps names and values free of CR/LF.
// "<method> <target> HTTP/1.1\r\nHost: <host>\r\n"
void begin_request_head(std::string& out, std::string_view method, std::string_view target,
                        std::string_view host);
// "<name>: <value>\r\n"
void append_header(std::string& out, std::string_view name, std::string_view value);
// "Content-Length: <n>\r\n\r\n"
void end_request_head(std::string& out, std::size_t content_length);
// "source-aws-billing/<version>"
std::string_view user_agent();

// What a response body longer than the caller's limit means.
enum class OversizedBody {
  error,  // a TransportError (too_large): the caller needs the body (Cost Explorer pages)
  drop,   // the response comes back with its status and headers and an empty body, and the
          // connection is closed (the rest of the body is not read): the caller needs the status
};

// Spare capacity given to every response body with a Content-Length (simdjson's padding).
inline constexpr std::size_t kBodyPadding = 64;

// One keep-alive HTTP/1.1 connection to one origin (http or https), opened on first use and
// re-opened when the peer closed it. One request at a time; not thread-safe (use it from one
// strand/io_context thread).
//
// Through a `proxy`: an https origin gets a CONNECT tunnel, then TLS with the origin inside it
// (the origin's name checked as without a proxy); an http origin gets absolute-form requests.
// Proxy-Authorization goes to the proxy only, never to the origin.
class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor executor, Url origin,
             std::shared_ptr<boost::asio::ssl::context> tls,
             std::optional<ProxyEndpoint> proxy = std::nullopt);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and reads the whole response. Sets Host, User-Agent (when absent) and
  // Content-Length. `timeout` bounds everything: resolve, connect, TLS handshake, write and read.
  // A stale kept-alive connection (closed by the peer before any byte of the answer) is re-opened
  // and the request re-sent once. HTTP error statuses are returned, not thrown; failures to get a
  // response throw TransportError.
  //
  // Cancellation: when the calling coroutine's cancellation state is cancelled (terminal
  // per-operation cancellation, e.g. bind_cancellation_slot on its co_spawn), the exchange ends at
  // once in whatever step it is (resolve, connect, TLS handshake, write, read), the connection is
  // closed and boost::system::system_error(asio::error::operation_aborted) is thrown.
  boost::asio::awaitable<Response> send(Request request, std::chrono::milliseconds timeout,
                                        std::uint64_t body_limit,
                                        OversizedBody oversized = OversizedBody::error);

  // The same exchange for a request already written: `head` from begin_request_head ...
  // end_request_head (its Host must be origin().host_header), then `body`. Both must stay valid
  // until the call completes; nothing is copied.
  boost::asio::awaitable<Response> send_prepared(std::string_view head, std::string_view body,
                                                 std::chrono::milliseconds timeout,
                                                 std::uint64_t body_limit,
                                                 OversizedBody oversized = OversizedBody::error);

  void close();
  const Url& origin() const { return origin_; }
  const std::optional<ProxyEndpoint>& proxy() const { return proxy_; }

 private:
  struct Impl;
  Url origin_;
  std::optional<ProxyEndpoint> proxy_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sab::net
