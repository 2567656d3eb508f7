// Fuzz target: the HTTP server's request handling, without sockets.
// Input: the bytes a client sends on one connection; the first byte sets the size of the reads
// the "socket" returns (1..256 bytes), the rest is the stream.
// The harness does what the server's session loop does (src/net/http_server.cpp): one
// http::request_parser<empty_body> per request with header_limit(kMaxRequestHeaderBytes) and
// body_limit(0), a flat_buffer bounded to the same size, Beast's own http::read, then
// net::route() for a parsed request or net::error_response() for a failed one, and stop after
// an answer that does not keep the connection alive.
// Properties: never crashes; every answer serializes (Beast's serializer) to a valid status line
// ("HTTP/1.x NNN reason") and parses back with Beast's response parser.
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http_routes.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// A SyncReadStream over the fuzz input that returns at most `chunk` bytes per read, then EOF;
// and a SyncWriteStream collecting what is written.
class MemoryStream {
 public:
  MemoryStream(std::string_view in, std::size_t chunk) : in_(in), chunk_(chunk) {}

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    if (in_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    const std::size_t n =
        asio::buffer_copy(buffers, asio::buffer(in_.data(), std::min(in_.size(), chunk_)));
    in_.remove_prefix(n);
    return n;
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    const std::size_t n = asio::buffer_size(buffers);
    const std::size_t old = out.size();
    out.resize(old + n);
    asio::buffer_copy(asio::buffer(out.data() + old, n), buffers);
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    return write_some(buffers, ec);
  }

  std::string out;

 private:
  std::string_view in_;
  std::size_t chunk_;
};

void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s:\n%s\n", what, detail.c_str());
  std::abort();
}

// Serializes `res` with Beast, checks the status line, parses it back.
void check_response(sab::net::ServerResponse& res, bool head) {
  MemoryStream sink({}, 1);
  boost::system::error_code ec;
  http::write(sink, res, ec);
  if (ec) fail("serializing the response", ec.message());
  const std::string& text = sink.out;
  const auto eol = text.find("\r\n");
  if (eol == std::string::npos) fail("no status line", text);
  const std::string_view line = std::string_view(text).substr(0, eol);
  // HTTP/d.d SP 3DIGIT SP reason
  if (line.size() < 13 || line.substr(0, 5) != "HTTP/" || !std::isdigit(line[5]) ||
      line[6] != '.' || !std::isdigit(line[7]) || line[8] != ' ' || line[12] != ' ' ||
      !std::isdigit(line[9]) || !std::isdigit(line[10]) || !std::isdigit(line[11])) {
    fail("invalid status line", text);
  }
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
      fail("control byte in the status line", text);
  }
  http::response_parser<http::string_body> parser;
  parser.skip(head);
  parser.eager(true);
  parser.put(asio::buffer(text), ec);
  if (ec == http::error::need_more && !head) {
    parser.put_eof(ec);
  }
  if (ec || !parser.is_done()) fail("the response does not parse back", ec.message() + "\n" + text);
  if (parser.get().result_int() != res.result_int()) fail("status differs", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = static_cast<std::size_t>(data[0]) + 1;
  MemoryStream stream(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), chunk);

  sab::net::ServerHandlers handlers{
      [] { return std::string("# TYPE aws_billing_source_up gauge\naws_billing_source_up 1\n"); },
      [] { return std::string("last pull failed:\r\nthrottled"); },
      [](std::string_view path) {
        if (path != "/healthz" && path != "/readyz" && path != "/metrics" && path != "other") {
          std::abort();
        }
      },
      nullptr, [] { return std::string("forecast:\r\nfailed"); }};

  beast::flat_buffer buffer(sab::net::kMaxRequestHeaderBytes);
  for (int requests = 0; requests < 1000; ++requests) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(sab::net::kMaxRequestHeaderBytes));
    parser.body_limit(0);
    boost::system::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::end_of_stream) break;
    if (ec) {
      const bool too_big = ec == http::error::header_limit || ec == http::error::body_limit ||
                           ec == http::error::buffer_overflow;
      auto res = sab::net::error_response(too_big);
      if (res.keep_alive()) fail("an error response keeps the connection", ec.message());
      check_response(res, false);
      break;
    }
    auto res = sab::net::route(parser.get(), handlers);
    check_response(res, parser.get().method() == http::verb::head);
    if (!res.keep_alive()) break;
  }
  return 0;
}
