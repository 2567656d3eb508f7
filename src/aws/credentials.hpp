#pragma once

// AWS credentials: what a credential source yields, how temporary ones age, and the provider
// interface the signing clients ask. The sources and their order are in aws/credential_chain.hpp.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace sab::aws {

using TimePoint = std::chrono::system_clock::time_point;
using WallClock = std::function<TimePoint()>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // secret: never log
  std::string session_token;      // secret: never log
  std::optional<TimePoint> expiration;

  bool complete() const { return !access_key_id.empty() && !secret_access_key.empty(); }
};

// Overwrites the secret parts with zeros (OPENSSL_cleanse) and clears them.
void wipe(Credentials& credentials);

// Reads a whole file; nullopt when it cannot be read. Injectable for tests.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
FileReader real_file_reader();

class CredentialError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::chrono::minutes kRefreshMargin{5};

// True when `credentials` must be fetched again at `now`.
bool needs_refresh(const Credentials& credentials, TimePoint now);

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // Current credentials, refreshed when they expire within kRefreshMargin (when that refresh
  // fails, the current ones serve until they really expire). Throws CredentialError when none
  // can be obtained.
  virtual boost::asio::awaitable<Credentials> get() = 0;
  // The next get() fetches fresh credentials (e.g. after an ExpiredToken answer).
  virtual void invalidate() {}
};

// Fixed credentials (tests; and a base for nothing else).
class StaticCredentialProvider : public CredentialProvider {
 public:
  explicit StaticCredentialProvider(Credentials credentials)
      : credentials_(std::move(credentials)) {}
  ~StaticCredentialProvider() override { wipe(credentials_); }
  boost::asio::awaitable<Credentials> get() override;

 private:
  Credentials credentials_;
};

}  // namespace sab::aws
