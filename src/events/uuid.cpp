#include "events/uuid.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace sab::events {

namespace {

// OpenSSL 3 looks a digest up in its provider store on every EVP_sha1() init, under a lock;
// an event id is hashed per event, so the digest is fetched once and the context reused.
struct Sha1 {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_MD_CTX* fork = EVP_MD_CTX_new();  // a copy of ctx, to finish two names sharing a prefix
  ~Sha1() {
    EVP_MD_CTX_free(fork);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

[[noreturn]] void fail() {
  throw std::runtime_error("SHA-1 digest for a UUID failed");
}

void start(Sha1& sha1, const Uuid& name_space, std::string_view name) {
  if (!sha1.md || !sha1.ctx || !sha1.fork || EVP_DigestInit_ex2(sha1.ctx, sha1.md, nullptr) != 1 ||
      EVP_DigestUpdate(sha1.ctx, name_space.data(), name_space.size()) != 1 ||
      EVP_DigestUpdate(sha1.ctx, name.data(), name.size()) != 1) {
    fail();
  }
}

Uuid finish(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &length) != 1 || length < 16) fail();
  Uuid out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = digest[i];
  out[6] = static_cast<std::uint8_t>((out[6] & 0x0F) | 0x50);  // version 5
  out[8] = static_cast<std::uint8_t>((out[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return out;
}

}  // namespace

Uuid uuid_v5(const Uuid& name_space, std::string_view name) {
  thread_local Sha1 sha1;
  start(sha1, name_space, name);
  return finish(sha1.ctx);
}

UuidPair uuid_v5_pair(const Uuid& name_space, std::string_view name, std::string_view suffix) {
  thread_local Sha1 sha1;
  start(sha1, name_space, name);
  if (EVP_MD_CTX_copy_ex(sha1.fork, sha1.ctx) != 1 ||
      EVP_DigestUpdate(sha1.fork, suffix.data(), suffix.size()) != 1) {
    fail();
  }
  return {finish(sha1.ctx), finish(sha1.fork)};
}

std::string to_string(const Uuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[uuid[i] >> 4]);
    out.push_back(kHex[uuid[i] & 0x0F]);
  }
  return out;
}

std::optional<Uuid> parse_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid out{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int value = 0;
    for (int k = 0; k < 2; ++k, ++i) {
      const char c = text[i];
      int nibble = 0;
      if (c >= '0' && c <= '9') {
        nibble = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        nibble = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        nibble = c - 'A' + 10;
      } else {
        return std::nullopt;
      }
      value = value * 16 + nibble;
    }
    out[byte++] = static_cast<std::uint8_t>(value);
  }
  return out;
}

}  // namespace sab::events
