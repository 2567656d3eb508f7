#include "aws/credentials.hpp"

#include <openssl/crypto.h>

#include <fstream>
#include <sstream>

namespace sab::aws {

void wipe(Credentials& c) {
  if (!c.secret_access_key.empty()) {
    OPENSSL_cleanse(c.secret_access_key.data(), c.secret_access_key.size());
  }
  if (!c.session_token.empty()) OPENSSL_cleanse(c.session_token.data(), c.session_token.size());
  c.secret_access_key.clear();
  c.session_token.clear();
}

FileReader real_file_reader() {
  return [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return ss.str();
  };
}

bool needs_refresh(const Credentials& credentials, TimePoint now) {
  if (!credentials.complete()) return true;
  if (!credentials.expiration) return false;
  return *credentials.expiration - kRefreshMargin <= now;
}

boost::asio::awaitable<Credentials> StaticCredentialProvider::get() {
  co_return credentials_;
}

}  // namespace sab::aws
