#include "aws/sigv4.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>

namespace sab::aws {

Key::~Key() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string hex(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

void hmac_into(const unsigned char* key, std::size_t key_size, std::string_view data, Key& out) {
  // EVP_MAC's HMAC refuses a null key pointer even with length 0: point at a dummy byte then.
  static const unsigned char empty = 0;
  std::size_t out_size = 0;
  const unsigned char* k = key_size == 0 ? &empty : key;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, k, key_size,
                reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                out.bytes().data(), out.bytes().size(), &out_size) == nullptr ||
      out_size != out.bytes().size()) {
    throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
  }
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string uri_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims and folds inner runs of whitespace into one space.
std::string fold_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool skipped_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "transfer-encoding" || lower_name == "connection" ||
         lower_name == "x-amzn-trace-id";
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), md, &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed in OpenSSL");
  }
  return hex(md, size);
}

Key hmac_sha256(std::string_view key, std::string_view data) {
  Key out;
  hmac_into(reinterpret_cast<const unsigned char*>(key.data()), key.size(), data, out);
  return out;
}

std::string to_hex(const Key& digest) {
  return hex(digest.bytes().data(), digest.bytes().size());
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string amz_day(std::chrono::system_clock::time_point t) {
  return amz_date(t).substr(0, 8);
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0xf]);
    }
  }
  return out;
}

std::string canonical_uri(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  if (!normalize) return uri_encode(path, true);
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    const std::string_view seg = path.substr(pos, next - pos);
    const bool last = next == path.size();
    if (seg.empty() || seg == ".") {
      if (last) trailing_slash = true;
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      if (last) trailing_slash = true;
    } else {
      segments.push_back(seg);
      trailing_slash = false;
    }
    pos = next + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += uri_encode(segments[i], false);
  }
  if (trailing_slash && !segments.empty()) out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    std::size_t next = query.find('&', pos);
    if (next == std::string_view::npos) next = query.size();
    const std::string_view param = query.substr(pos, next - pos);
    if (!param.empty()) {
      const std::size_t eq = param.find('=');
      const std::string_view name = param.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
      params.emplace_back(uri_encode(uri_decode(name), false),
                          uri_encode(uri_decode(value), false));
    }
    pos = next + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

HeaderList canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  // std::map keeps the names sorted; values of a repeated name stay in their original order.
  std::map<std::string, std::string> by_name;
  for (const auto& [name, value] : headers) {
    std::string key = lower(name);
    if (skipped_header(key)) continue;
    auto [it, inserted] = by_name.try_emplace(std::move(key));
    if (!inserted) it->second.push_back(',');
    it->second += fold_value(value);
  }
  HeaderList out;
  for (const auto& [name, value] : by_name) {
    out.canonical += name;
    out.canonical.push_back(':');
    out.canonical += value;
    out.canonical.push_back('\n');
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }
  return out;
}

std::string canonical_request(std::string_view method, std::string_view target,
                              const HeaderList& headers, std::string_view payload_hash,
                              bool normalize) {
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  std::string out;
  out.reserve(256 + headers.canonical.size());
  out += method;
  out.push_back('\n');
  out += canonical_uri(path, normalize);
  out.push_back('\n');
  out += canonical_query(query);
  out.push_back('\n');
  out += headers.canonical;
  out.push_back('\n');
  out += headers.signed_headers;
  out.push_back('\n');
  out += payload_hash;
  return out;
}

std::string credential_scope(std::string_view day, std::string_view region,
                             std::string_view service) {
  std::string out;
  out += day;
  out.push_back('/');
  out += region;
  out.push_back('/');
  out += service;
  out += "/aws4_request";
  return out;
}

std::string string_to_sign(std::string_view date, std::string_view scope,
                           std::string_view canonical) {
  std::string out(kAlgorithm);
  out.push_back('\n');
  out += date;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out += sha256_hex(canonical);
  return out;
}

Key signing_key(std::string_view secret, std::string_view day, std::string_view region,
                std::string_view service) {
  std::string seed = "AWS4";
  seed += secret;
  Key k_date = hmac_sha256(seed, day);
  OPENSSL_cleanse(seed.data(), seed.size());
  auto view = [](const Key& k) {
    return std::string_view(reinterpret_cast<const char*>(k.bytes().data()), k.bytes().size());
  };
  Key k_region = hmac_sha256(view(k_date), region);
  Key k_service = hmac_sha256(view(k_region), service);
  return hmac_sha256(view(k_service), "aws4_request");
}

namespace {

struct CacheEntry {
  std::string secret_digest;  // SHA-256 of the secret, never the secret itself
  std::string day, region, service;
  Key key;
};

std::mutex cache_mutex;
std::vector<CacheEntry> cache;  // tiny: one entry per credentials x region x service in use
constexpr std::size_t kCacheSize = 8;

}  // namespace

Key cached_signing_key(std::string_view secret, std::string_view day, std::string_view region,
                       std::string_view service) {
  std::string digest = sha256_hex(secret);
  {
    std::lock_guard lock(cache_mutex);
    for (const auto& e : cache) {
      if (e.secret_digest == digest && e.day == day && e.region == region && e.service == service) {
        return e.key;
      }
    }
  }
  Key key = signing_key(secret, day, region, service);
  std::lock_guard lock(cache_mutex);
  // Keys of other days are useless now: drop them, and keep the cache bounded.
  std::erase_if(cache, [&](const CacheEntry& e) { return e.day != day; });
  if (cache.size() >= kCacheSize) cache.erase(cache.begin());
  cache.push_back(
      {std::move(digest), std::string(day), std::string(region), std::string(service), key});
  return key;
}

std::string signature(const Key& key, std::string_view sts) {
  auto view =
      std::string_view(reinterpret_cast<const char*>(key.bytes().data()), key.bytes().size());
  return to_hex(hmac_sha256(view, sts));
}

std::vector<std::pair<std::string, std::string>> header_pairs(const net::Request& request) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& field : request) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

SigningDetails sign(net::Request& request, const Credentials& credentials, std::string_view region,
                    std::string_view service, std::chrono::system_clock::time_point now,
                    const SignOptions& options) {
  if (request.find(boost::beast::http::field::host) == request.end()) {
    throw std::invalid_argument("SigV4: the request has no Host header");
  }
  if (!credentials.complete()) {
    throw std::invalid_argument("SigV4: credentials without an access key id or secret");
  }
  const std::string date = amz_date(now);
  const std::string day = date.substr(0, 8);
  request.erase(boost::beast::http::field::authorization);
  request.set("X-Amz-Date", date);
  request.erase("X-Amz-Security-Token");
  if (!credentials.session_token.empty() && options.sign_session_token) {
    request.set("X-Amz-Security-Token", credentials.session_token);
  }
  const std::string payload_hash = sha256_hex(request.body());
  if (options.add_content_sha256) request.set("X-Amz-Content-Sha256", payload_hash);

  SigningDetails d;
  const HeaderList headers = canonical_headers(header_pairs(request));
  d.canonical_request = canonical_request(request.method_string(), request.target(), headers,
                                          payload_hash, options.normalize_path);
  const std::string scope = credential_scope(day, region, service);
  d.string_to_sign = string_to_sign(date, scope, d.canonical_request);
  d.signature = signature(cached_signing_key(credentials.secret_access_key, day, region, service),
                          d.string_to_sign);
  d.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                    scope + ", SignedHeaders=" + headers.signed_headers +
                    ", Signature=" + d.signature;
  request.set(boost::beast::http::field::authorization, d.authorization);
  if (!credentials.session_token.empty() && !options.sign_session_token) {
    request.set("X-Amz-Security-Token", credentials.session_token);
  }
  return d;
}

}  // namespace sab::aws
