#pragma once

// AWS Signature Version 4 (header signing), as separately testable pure steps, one function
// per step of the algorithm:
//
//   canonical_request -> string_to_sign -> signing_key -> signature -> Authorization header
//
// Nothing here does I/O or reads the clock: the signing time is a parameter.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"
#include "net/http_client.hpp"

namespace sab::aws {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// A 32-byte HMAC-SHA256 key or digest. Wiped on destruction.
class Key {
 public:
  Key() { bytes_.fill(0); }
  ~Key();
  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  std::array<unsigned char, 32>& bytes() { return bytes_; }
  const std::array<unsigned char, 32>& bytes() const { return bytes_; }
  bool operator==(const Key& other) const { return bytes_ == other.bytes_; }

 private:
  std::array<unsigned char, 32> bytes_;
};

// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);
// HMAC-SHA256(key, data).
Key hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(const Key& digest);

// "20150830T123600Z" and "20150830".
std::string amz_date(std::chrono::system_clock::time_point t);
std::string amz_day(std::chrono::system_clock::time_point t);

// URI-encodes every byte except the unreserved A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash).
std::string uri_encode(std::string_view s, bool keep_slash);

// The canonical URI of a request path (without query). With `normalize` (every service but S3),
// empty and '.' segments are dropped and '..' removes the previous one; the result is then encoded
// segment by segment (a '%' already in the path is encoded again, as the SDKs do).
std::string canonical_uri(std::string_view path, bool normalize);

// The canonical query string: every parameter decoded and re-encoded, sorted by name then value.
std::string canonical_query(std::string_view query);

struct HeaderList {
  std::string canonical;       // "name:value\n" per distinct name, sorted
  std::string signed_headers;  // "name;name;..."
};

// Canonical headers of (name, value) pairs: lower-case names, values trimmed with inner runs of
// whitespace folded to one space, repeated names joined with ',' in their original order, sorted by
// name. Headers that must not be signed (authorization, user-agent, expect, transfer-encoding,
// connection, x-amzn-trace-id) are skipped.
HeaderList canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers);

// METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash
std::string canonical_request(std::string_view method, std::string_view target,
                              const HeaderList& headers, std::string_view payload_hash,
                              bool normalize);

// "<day>/<region>/<service>/aws4_request"
std::string credential_scope(std::string_view day, std::string_view region,
                             std::string_view service);

// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>"
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
Key signing_key(std::string_view secret, std::string_view day, std::string_view region,
                std::string_view service);

// The same, cached per (secret, day, region, service) in a small process-wide cache (the secret
// itself is not kept, only its SHA-256). Thread-safe.
Key cached_signing_key(std::string_view secret, std::string_view day, std::string_view region,
                       std::string_view service);

// Lower-case hex HMAC(signing key, string to sign).
std::string signature(const Key& signing_key, std::string_view string_to_sign);

struct SignOptions {
  bool normalize_path = true;       // false only for S3
  bool add_content_sha256 = false;  // add and sign X-Amz-Content-Sha256 (S3 style)
  bool sign_session_token = true;   // false: X-Amz-Security-Token is added after signing
};

// What a signing produced, for tests and debugging (no secrets in it).
struct SigningDetails {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;
};

// The (name, value) header pairs of a request, in order.
std::vector<std::pair<std::string, std::string>> header_pairs(const net::Request& request);

// Signs `request` in place: sets X-Amz-Date, X-Amz-Security-Token (when the credentials have a
// session token), X-Amz-Content-Sha256 (with add_content_sha256) and Authorization. The request
// must already have its Host header and body. Throws std::invalid_argument when the Host header or
// the access key is missing.
SigningDetails sign(net::Request& request, const Credentials& credentials, std::string_view region,
                    std::string_view service, std::chrono::system_clock::time_point now,
                    const SignOptions& options = {});

}  // namespace sab::aws
