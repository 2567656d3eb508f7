#pragma once

// An in-process HTTP/1.1 server for the unit tests of the HTTP peers (net::HttpClient, the Cost
// Explorer client, the deliverer): it records every request and answers each as the test scripts
// it, including what real servers do not do on demand (a truncated body, a reset connection, a
// stall, a large or slow body, a connection held without a byte of answer).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sab::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

// How a streamed body is framed.
enum class Framing { content_length, chunked };

// One answer of the server to one request.
struct Reply {
  enum class Kind {
    respond,   // a complete response; the connection serves the next request
    truncate,  // `body` written as raw bytes, then the connection closed (a head promising more)
    reset,     // the connection closed with an RST, nothing written
    stall,     // nothing written; the connection held open until the server goes
    stream,    // a 200 with a body of `pieces` x `piece_size` bytes; then the next request
  };
  Kind kind = Kind::respond;
  unsigned status = 200;
  Headers headers;   // set in order: a later one replaces an earlier one of the same name
  std::string body;  // respond: the body; truncate: the raw bytes
  // stream:
  Framing framing = Framing::content_length;
  std::size_t pieces = 0;
  std::size_t piece_size = 0;
  std::chrono::steady_clock::duration pause{};  // before each piece: a slow body
};

// A complete response (Content-Length from the body, keep-alive).
Reply respond(unsigned status, Headers headers = {}, std::string body = {});
// Writes `raw` (typically a head with a Content-Length the bytes do not reach) and closes.
Reply truncated(std::string raw);
// Closes the connection with an RST instead of answering.
Reply reset_connection();
// Never answers; the connection stays open until the server is destroyed.
Reply stall();
// A 200 with `headers` and a body of `pieces` pieces of `piece_size` 'x' bytes, each written on
// its own after `pause`. The default is 2 MiB, written as fast as the peer reads.
Reply streamed(Headers headers, Framing framing, std::size_t pieces = 32,
               std::size_t piece_size = 64 * 1024, std::chrono::steady_clock::duration pause = {});

// Listens on 127.0.0.1 (a free port) from construction; the accept loop and the connections run
// on the io_context given, as the test runs it. Destroy it before its io_context (declare it
// after), and do not run that io_context after the server is gone.
class FakeHttpServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  // Answers a request; `index` counts the requests received so far, on every connection, from 0.
  using Script = std::function<Reply(const Request& request, std::size_t index)>;

  // Holds every connection open without reading or writing a byte (not even a TLS ServerHello).
  struct Silent {};
  static constexpr Silent silent{};

  explicit FakeHttpServer(boost::asio::io_context& ioc);
  FakeHttpServer(boost::asio::io_context& ioc, Silent);
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  unsigned short port() const;
  std::string host() const;                        // 127.0.0.1:port
  std::string base() const;                        // http://127.0.0.1:port
  std::string url(const std::string& path) const;  // base() + path

  // The answers to the next requests, in order, while any are left; then `script` answers.
  std::deque<Reply> replies;
  Script script = [](const Request&, std::size_t) { return respond(200); };

  // Every request read, in the order read.
  const std::vector<Request>& received() const { return received_; }
  // Connections accepted.
  std::size_t connections() const { return connections_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  Reply next(const Request& request);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer forever_;  // what a stalled connection waits for
  bool silent_ = false;
  std::vector<boost::asio::ip::tcp::socket> held_;  // silent: the connections held
  std::vector<Request> received_;
  std::size_t connections_ = 0;
};

}  // namespace sab::test
