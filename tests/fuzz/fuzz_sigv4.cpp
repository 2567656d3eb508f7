// Fuzz target: the SigV4 canonicalizer and signer.
// Input (FuzzedDataProvider): the path normalization flag, a method, a request target (path and
// query, any bytes) and up to 16 headers. Header names and the method are HTTP tokens
// (RFC 9110 tchar), as on any request HTTP can carry; the harness maps each fuzzed byte into that
// set. Header values are any bytes.
// Properties: never crashes; deterministic; the canonical request has no raw CR and has exactly
// the lines of its definition (method, URI, query, one per signed header, empty line, signed
// headers, payload hash); the canonical URI and query hold only unreserved bytes, '%XX', '/',
// '=' and '&'; sign() on the same request agrees with the parts.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"
#include "aws/sigv4.hpp"

namespace aws = sab::aws;

namespace {

constexpr std::string_view kTchar =
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::string token(FuzzedDataProvider& in, std::size_t max) {
  std::string out = in.ConsumeRandomLengthString(max);
  for (char& c : out)
    c = kTchar[static_cast<unsigned char>(c) % kTchar.size()];
  if (out.empty()) out = "x";
  return out;
}

void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s:\n%s\n", what, detail.c_str());
  std::abort();
}

bool encoded_only(std::string_view s, std::string_view extra) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || extra.find(c) != std::string_view::npos) continue;
    if (c != '%' || i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return false;
    }
    i += 2;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  const bool normalize = in.ConsumeBool();
  const std::string method = token(in, 12);
  const std::string target = in.ConsumeRandomLengthString(512);
  std::vector<std::pair<std::string, std::string>> headers;
  const int n = in.ConsumeIntegralInRange(0, 16);
  for (int i = 0; i < n && in.remaining_bytes() > 0; ++i) {
    std::string name = token(in, 32);
    headers.emplace_back(std::move(name), in.ConsumeRandomLengthString(128));
  }
  const std::string body = in.ConsumeRemainingBytesAsString();
  const std::string payload_hash = aws::sha256_hex(body);

  const aws::HeaderList list = aws::canonical_headers(headers);
  const std::string canonical =
      aws::canonical_request(method, target, list, payload_hash, normalize);
  if (canonical != aws::canonical_request(method, target, aws::canonical_headers(headers),
                                          payload_hash, normalize)) {
    fail("not deterministic", canonical);
  }
  if (canonical.find('\r') != std::string::npos) fail("raw CR in the canonical request", canonical);

  // Lines: method, URI, query, the headers, "", signed headers, hash.
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0;;) {
    const auto nl = canonical.find('\n', pos);
    lines.push_back(std::string_view(canonical).substr(pos, nl - pos));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  std::size_t signed_count = list.signed_headers.empty() ? 0 : 1;
  for (char c : list.signed_headers)
    signed_count += c == ';';
  if (lines.size() != 6 + signed_count) fail("wrong number of lines", canonical);
  if (lines[0] != method) fail("method line", canonical);
  // Normalized, the URI is absolute; unnormalized (S3) it is the path as given, encoded.
  const bool absolute = normalize || target.empty() || target[0] == '/';
  if (lines[1].empty() || (absolute && lines[1][0] != '/') || !encoded_only(lines[1], "/")) {
    fail("canonical URI", canonical);
  }
  if (!encoded_only(lines[2], "=&")) fail("canonical query", canonical);
  if (!lines[3 + signed_count].empty()) fail("no empty line after the headers", canonical);
  if (lines[4 + signed_count] != list.signed_headers) fail("signed headers line", canonical);
  if (lines[5 + signed_count] != payload_hash) fail("payload hash line", canonical);

  // The whole signer on a request carrying the same parts.
  sab::net::Request request;
  request.method_string(method);
  request.target(target);
  for (const auto& [name, value] : headers)
    request.insert(name, value);
  request.set(boost::beast::http::field::host, "ce.us-east-1.amazonaws.com");
  request.body() = body;
  aws::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  const auto now = std::chrono::sys_days{std::chrono::year{2015} / 8 / 30} + std::chrono::hours{12};
  const aws::SigningDetails a = aws::sign(request, credentials, "us-east-1", "ce", now);
  const aws::SigningDetails b = aws::sign(request, credentials, "us-east-1", "ce", now);
  if (a.canonical_request != b.canonical_request || a.signature != b.signature) {
    fail("signing is not deterministic", a.canonical_request);
  }
  if (a.canonical_request.find('\r') != std::string::npos)
    fail("raw CR when signing", a.canonical_request);
  if (a.signature.size() != 64) fail("signature length", a.signature);
  return 0;
}
