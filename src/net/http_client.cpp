#include "net/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <iterator>
#include <memory>
#include <optional>

#include "common/tasks.hpp"
#include "common/version.hpp"

namespace sab::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string_view to_string(TransportErrorKind kind) {
  switch (kind) {
    case TransportErrorKind::resolve:
      return "resolve";
    case TransportErrorKind::connect:
      return "connect";
    case TransportErrorKind::tls:
      return "tls";
    case TransportErrorKind::timeout:
      return "timeout";
    case TransportErrorKind::reset:
      return "reset";
    case TransportErrorKind::too_large:
      return "too_large";
    case TransportErrorKind::protocol:
      return "protocol";
    case TransportErrorKind::proxy:
      return "proxy";
    case TransportErrorKind::proxy_auth:
      return "proxy_auth";
  }
  return "protocol";
}

std::shared_ptr<ssl::context> make_client_tls_context(const TlsConfig& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (tls.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none);
    return ctx;
  }
  ctx->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (!tls.ca_file.empty()) {
    ctx->load_verify_file(tls.ca_file, ec);
    if (ec) throw std::runtime_error("cannot load CA file '" + tls.ca_file + "': " + ec.message());
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("cannot load the system CA certificates: " + ec.message());
  }
  return ctx;
}

namespace {

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

// Errors that mean "the peer closed or broke the connection".
bool is_reset(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == ssl::error::stream_truncated;
}

}  // namespace

struct HttpClient::Impl {
  asio::any_io_executor executor;
  std::shared_ptr<ssl::context> tls_context;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  bool connected() const { return plain.has_value() || secure.has_value(); }

  void close() {
    boost::system::error_code ignored;
    if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
    if (plain) plain->socket().close(ignored);
    secure.reset();
    plain.reset();
    buffer.clear();
  }

  void abort_if_cancelled(const asio::cancellation_state& cancel);
  // Resolve, TCP connect (to the proxy when there is one), the CONNECT tunnel for https through
  // a proxy and, for https, the TLS handshake, all by `deadline`.
  asio::awaitable<void> connect(const Url& origin, const std::optional<ProxyEndpoint>& proxy,
                                std::chrono::steady_clock::time_point deadline,
                                const asio::cancellation_state& cancel);
  asio::awaitable<void> tunnel(const Url& origin, const ProxyEndpoint& proxy,
                               std::chrono::steady_clock::time_point deadline,
                               const asio::cancellation_state& cancel);
  asio::awaitable<void> handshake(const Url& origin, std::chrono::steady_clock::time_point deadline,
                                  const asio::cancellation_state& cancel);
};

HttpClient::HttpClient(asio::any_io_executor executor, Url origin,
                       std::shared_ptr<ssl::context> tls, std::optional<ProxyEndpoint> proxy)
    : origin_(std::move(origin)), proxy_(std::move(proxy)), impl_(std::make_unique<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->tls_context = std::move(tls);
  if (origin_.tls && !impl_->tls_context) {
    impl_->tls_context = make_client_tls_context({});
  }
}

HttpClient::~HttpClient() = default;

void HttpClient::close() {
  impl_->close();
}

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds{1});
}

[[noreturn]] void throw_timeout(const Url& origin, std::string_view step) {
  throw TransportError(TransportErrorKind::timeout,
                       "timed out during " + std::string(step) + " with " + origin.host_header);
}

// The proxy wants other credentials: one message for a refused CONNECT and a refused request.
[[noreturn]] void throw_proxy_auth(const std::string& what, const ProxyEndpoint& proxy,
                                   unsigned status) {
  throw TransportError(TransportErrorKind::proxy_auth,
                       what + ": proxy authentication required (HTTP " + std::to_string(status) +
                           "); " +
                           (proxy.authorization.empty()
                                ? "give user:password in the proxy URL"
                                : "the proxy refused the user and password of the proxy URL"));
}

[[noreturn]] void throw_aborted() {
  throw boost::system::system_error(asio::error::operation_aborted);
}

// One name lookup. getaddrinfo cannot be interrupted, so the caller does not wait for it past its
// deadline or a cancellation: it leaves, the resolver goes with it (cancelling the lookup), and a
// late answer finds nobody (the handler holds a weak_ptr).
struct Lookup {
  explicit Lookup(const asio::any_io_executor& executor) : resolver(executor), done(executor) {}
  tcp::resolver resolver;
  asio::steady_timer done;  // expires at the deadline, or at once when the answer arrives
  boost::system::error_code ec;
  tcp::resolver::results_type endpoints;
  bool finished = false;
};

asio::awaitable<tcp::resolver::results_type> resolve(const Url& origin,
                                                     Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  auto lookup = std::make_shared<Lookup>(executor);
  lookup->done.expires_after(remaining(deadline));
  lookup->resolver.async_resolve(
      origin.host, origin.port,
      [weak = std::weak_ptr<Lookup>(lookup)](const boost::system::error_code& ec,
                                             tcp::resolver::results_type endpoints) {
        const auto l = weak.lock();
        if (!l) return;
        l->ec = ec;
        l->endpoints = std::move(endpoints);
        l->finished = true;
        l->done.expires_at(asio::steady_timer::time_point::min());  // wakes the waiter
      });
  // Ends with the answer, at the deadline, or at once on cancellation (a timer supports them all).
  (void)co_await lookup->done.async_wait(common::nothrow);
  const auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) throw_aborted();
  if (!lookup->finished) throw_timeout(origin, "name resolution");
  if (lookup->ec) {
    throw TransportError(TransportErrorKind::resolve,
                         "cannot resolve " + origin.host + ": " + lookup->ec.message());
  }
  co_return std::move(lookup->endpoints);
}

std::string tls_failure_message(SSL* ssl, const boost::system::error_code& ec, const Url& origin) {
  const long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK) {
    return "TLS certificate of " + origin.host_header +
           " rejected: " + X509_verify_cert_error_string(verify);
  }
  return "TLS handshake with " + origin.host_header + " failed: " + ec.message();
}

}  // namespace

void begin_request_head(std::string& out, std::string_view method, std::string_view target,
                        std::string_view host) {
  out += method;
  out.push_back(' ');
  out += target;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\n";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void end_request_head(std::string& out, std::size_t content_length) {
  char digits[24];
  const auto r = std::to_chars(std::begin(digits), std::end(digits), content_length);
  out += "Content-Length: ";
  out.append(digits, r.ptr);
  out += "\r\n\r\n";
}

std::string_view user_agent() {
  static const std::string agent = std::string("source-aws-billing/") + common::kVersion;
  return agent;
}

asio::awaitable<Response> HttpClient::send(Request request, std::chrono::milliseconds timeout,
                                           std::uint64_t body_limit, OversizedBody oversized) {
  std::string head;
  head.reserve(256);
  begin_request_head(head, request.method_string(), request.target(), origin_.host_header);
  if (request.find(http::field::user_agent) == request.end()) {
    append_header(head, "User-Agent", user_agent());
  }
  for (const auto& field : request) {
    const auto name = field.name();
    if (name == http::field::host || name == http::field::content_length ||
        name == http::field::transfer_encoding || name == http::field::connection) {
      continue;
    }
    append_header(head, field.name_string(), field.value());
  }
  const auto method = request.method();
  const bool no_body_expected = method == http::verb::get || method == http::verb::head ||
                                method == http::verb::delete_ || method == http::verb::options;
  if (request.body().empty() && no_body_expected) {
    head += "\r\n";
  } else {
    end_request_head(head, request.body().size());
  }
  co_return co_await send_prepared(head, request.body(), timeout, body_limit, oversized);
}

namespace {

// SNI and the name (or address) the peer's certificate must carry.
void expect_peer(SSL* ssl, const std::string& host) {
  if (!is_ip_literal(host)) {
    // A macro in OpenSSL; the cast inside it trips -Wold-style-cast, hence the direct call.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  }
  if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) return;
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set1_host(ssl, host.c_str());
  }
}

// How one write + read on an open connection ended.
struct ExchangeResult {
  boost::system::error_code ec;   // set: no usable response
  Response response;              // valid when !ec
  bool close = false;             // the connection cannot carry another request
  bool nothing_received = false;  // ec came before any byte of the answer
};

// The request as written: [absolute-form prefix for a proxy], head (or its rest), body.
using RequestBuffers = std::array<asio::const_buffer, 3>;

// Writes the request and reads the answer on `stream` (plain or TLS; `lowest` is its TCP layer,
// which carries the deadline).
template <class Stream>
asio::awaitable<ExchangeResult> exchange(Stream& stream, beast::tcp_stream& lowest,
                                         beast::flat_buffer& buffer, const RequestBuffers& request,
                                         Clock::time_point deadline, std::uint64_t body_limit,
                                         OversizedBody oversized) {
  ExchangeResult out;
  lowest.expires_after(remaining(deadline));
  std::tie(out.ec, std::ignore) = co_await asio::async_write(stream, request, common::nothrow);

  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  // To drop an oversized body the header must be read whatever its Content-Length says.
  parser.body_limit(oversized == OversizedBody::drop ? boost::optional<std::uint64_t>()
                                                     : body_limit);
  if (!out.ec) {
    lowest.expires_after(remaining(deadline));
    std::tie(out.ec, std::ignore) =
        co_await http::async_read_header(stream, buffer, parser, common::nothrow);
  }
  bool dropped = false;
  if (!out.ec && !parser.is_done() && oversized == OversizedBody::drop) {
    const auto length = parser.content_length();
    dropped = length && *length > body_limit;
    parser.body_limit(body_limit);  // a chunked body or one read to EOF stops at the limit
  }
  if (!out.ec && !parser.is_done() && !dropped) {
    // Room for a JSON parser's padding past the body, so parsing a page needs no second copy
    // of it (the body's own reserve keeps this larger capacity).
    if (const auto length = parser.content_length(); length && *length <= body_limit) {
      parser.get().body().reserve(static_cast<std::size_t>(*length) + kBodyPadding);
    }
    std::tie(out.ec, std::ignore) =
        co_await http::async_read(stream, buffer, parser, common::nothrow);
  }
  if (!out.ec) {
    out.response = parser.release();
    out.close = dropped || !out.response.keep_alive();
    if (dropped) out.response.body().clear();
    co_return out;
  }
  if (out.ec == http::error::body_limit && oversized == OversizedBody::drop &&
      parser.is_header_done()) {
    // The status is all the caller wants; the unread rest of the body makes the connection
    // unusable.
    out.ec = {};
    out.close = true;
    out.response = parser.release();
    out.response.body().clear();
    out.response.body().shrink_to_fit();
    co_return out;
  }
  if (parser.is_header_done() && parser.get().result_int() == 407) {
    // A proxy refusing credentials may reset the connection after its header: the status is the
    // answer (the caller knows it came from a proxy).
    out.ec = {};
    out.close = true;
    out.response = parser.release();
    co_return out;
  }
  out.nothing_received = !parser.got_some();
  co_return out;
}

// The TransportError for an exchange that ended with `ec` (not a cancellation).
[[noreturn]] void throw_exchange_error(const Url& origin, const boost::system::error_code& ec,
                                       bool nothing_received, std::uint64_t body_limit) {
  if (ec == beast::error::timeout) throw_timeout(origin, "request");
  if (ec == http::error::body_limit) {
    throw TransportError(TransportErrorKind::too_large, "response from " + origin.host_header +
                                                            " exceeds " +
                                                            std::to_string(body_limit) + " bytes");
  }
  if (is_reset(ec)) {
    throw TransportError(TransportErrorKind::reset,
                         std::string("connection to ") + origin.host_header + " closed " +
                             (nothing_received ? "before the response" : "mid-response") + ": " +
                             ec.message());
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    throw TransportError(TransportErrorKind::protocol,
                         "invalid HTTP response from " + origin.host_header + ": " + ec.message());
  }
  throw TransportError(TransportErrorKind::reset,
                       "exchange with " + origin.host_header + " failed: " + ec.message());
}

}  // namespace

// A cancelled caller gets operation_aborted, never a TransportError, and no half-used connection.
void HttpClient::Impl::abort_if_cancelled(const asio::cancellation_state& cancel) {
  if (cancel.cancelled() != asio::cancellation_type::none) {
    close();
    throw_aborted();
  }
}

asio::awaitable<void> HttpClient::Impl::connect(const Url& origin,
                                                const std::optional<ProxyEndpoint>& proxy,
                                                Clock::time_point deadline,
                                                const asio::cancellation_state& cancel) {
  // Through a proxy the TCP connection goes to the proxy; errors name it.
  const Url& peer = proxy ? proxy->url : origin;
  auto endpoints = co_await resolve(peer, deadline);
  abort_if_cancelled(cancel);
  if (origin.tls) {
    secure.emplace(executor, *tls_context);
    expect_peer(secure->native_handle(), origin.host);
  } else {
    plain.emplace(executor);
  }
  auto& stream = lowest();
  stream.expires_after(remaining(deadline));
  auto [ec, ep] = co_await stream.async_connect(endpoints, common::nothrow);
  if (ec) {
    abort_if_cancelled(cancel);
    close();
    if (ec == beast::error::timeout) throw_timeout(peer, "connect");
    throw TransportError(TransportErrorKind::connect, std::string("cannot connect to ") +
                                                          (proxy ? "proxy " : "") +
                                                          peer.host_header + ": " + ec.message());
  }
  stream.socket().set_option(tcp::no_delay(true), ec);
  if (proxy && origin.tls) co_await tunnel(origin, *proxy, deadline, cancel);
  if (secure) co_await handshake(origin, deadline, cancel);
}

asio::awaitable<void> HttpClient::Impl::tunnel(const Url& origin, const ProxyEndpoint& proxy,
                                               Clock::time_point deadline,
                                               const asio::cancellation_state& cancel) {
  auto& stream = lowest();
  const std::string request = connect_request(origin, proxy);
  stream.expires_after(remaining(deadline));
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(request), common::nothrow);
  // The proxy's answer ends with its header: after a 200 the origin speaks TLS only once the
  // client hello is sent, so nothing past the header is read here.
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  beast::flat_buffer buffer;
  boost::system::error_code ec = wec;
  if (!ec) {
    stream.expires_after(remaining(deadline));
    std::tie(ec, std::ignore) =
        co_await http::async_read_header(stream, buffer, parser, common::nothrow);
  }
  abort_if_cancelled(cancel);
  const std::string where = "proxy " + proxy.url.host_header;
  if (ec) {
    close();
    if (ec == beast::error::timeout) throw_timeout(proxy.url, "CONNECT");
    throw TransportError(TransportErrorKind::reset,
                         "CONNECT through " + where + " failed: " + ec.message());
  }
  const unsigned status = parser.get().result_int();
  if (status / 100 == 2) co_return;
  close();
  const std::string tunnel = "CONNECT " + origin.host + ":" + origin.port + " through " + where;
  // Only the proxy answers a CONNECT: some (tinyproxy) say 401 for wrong credentials.
  if (status == 407 || status == 401) throw_proxy_auth(tunnel, proxy, status);
  throw TransportError(TransportErrorKind::proxy, tunnel + " refused: HTTP " +
                                                      std::to_string(status) + " " +
                                                      std::string(parser.get().reason()));
}

asio::awaitable<void> HttpClient::Impl::handshake(const Url& origin, Clock::time_point deadline,
                                                  const asio::cancellation_state& cancel) {
  lowest().expires_after(remaining(deadline));
  auto [ec] = co_await secure->async_handshake(ssl::stream_base::client, common::nothrow);
  if (!ec) co_return;
  abort_if_cancelled(cancel);
  // Read before close(): the verification result lives in the SSL object.
  std::string message = tls_failure_message(secure->native_handle(), ec, origin);
  close();
  if (ec == beast::error::timeout) throw_timeout(origin, "TLS handshake");
  throw TransportError(TransportErrorKind::tls, message);
}

asio::awaitable<Response> HttpClient::send_prepared(std::string_view head, std::string_view body,
                                                    std::chrono::milliseconds timeout,
                                                    std::uint64_t body_limit,
                                                    OversizedBody oversized) {
  const auto deadline = Clock::now() + timeout;
  auto& d = *impl_;
  // A handle on the coroutine's state: it sees a cancellation emitted later.
  const asio::cancellation_state cancel = co_await asio::this_coro::cancellation_state;
  d.abort_if_cancelled(cancel);
  // An http origin through a proxy: the request line in absolute form, and the proxy's
  // credentials (an https origin has them on its CONNECT instead).
  std::pair<std::string, std::size_t> prefix;
  if (proxy_ && !origin_.tls) prefix = absolute_form_prefix(head, origin_, *proxy_);
  const std::string_view rest = head.substr(prefix.second);
  const RequestBuffers buffers{asio::buffer(prefix.first), asio::buffer(rest.data(), rest.size()),
                               asio::buffer(body.data(), body.size())};

  for (int attempt = 0;; ++attempt) {
    const bool reused = d.connected();
    if (!reused) co_await d.connect(origin_, proxy_, deadline, cancel);
    d.abort_if_cancelled(cancel);

    ExchangeResult x;
    if (d.secure) {
      x = co_await exchange(*d.secure, d.lowest(), d.buffer, buffers, deadline, body_limit,
                            oversized);
    } else {
      x = co_await exchange(*d.plain, d.lowest(), d.buffer, buffers, deadline, body_limit,
                            oversized);
    }
    if (!x.ec) {
      if (x.close) d.close();
      if (proxy_ && !origin_.tls && x.response.result_int() == 407) {
        // The proxy's answer, not the origin's: the same error as a refused CONNECT.
        d.close();
        throw_proxy_auth(
            "request to " + origin_.host_header + " through proxy " + proxy_->url.host_header,
            *proxy_, 407);
      }
      co_return std::move(x.response);
    }

    d.abort_if_cancelled(cancel);
    d.close();
    // A kept-alive connection the peer closed while idle: open a new one and send again.
    if (reused && x.nothing_received && attempt == 0 && is_reset(x.ec)) continue;
    throw_exchange_error(origin_, x.ec, x.nothing_received, body_limit);
  }
}

}  // namespace sab::net
