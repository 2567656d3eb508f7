#include "state/state.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/dates.hpp"

namespace sab::state {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int kVersion = 2;
constexpr int kOldestVersion = 1;  // digests only

std::string errno_text() {
  return std::strerror(errno);
}

Day parse_day(std::string_view text, std::string_view what) {
  auto d = common::parse_date(text);
  if (!d) throw StateError(std::string(what) + ": not a date: '" + std::string(text) + "'");
  return *d;
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw StateError("cannot write '" + path + "': " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Creates `dir` when missing; a directory created here is 0700 whatever the umask (it holds the
// checkpoint, the lock and the dead letters: others must neither read nor replace them).
void create_dir(const fs::path& dir) {
  std::error_code ec;
  const bool created = fs::create_directories(dir, ec);
  if (!ec && created) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) throw StateError("cannot create state_dir '" + dir.string() + "': " + ec.message());
}

void parse_digests(const json::value& digests, bool legacy, State& state) {
  if (!digests.is_object()) throw StateError("\"digests\" must be an object");
  // Version 1's ids carried no estimated flag: the digests of the amounts alone.
  const std::string prefix = legacy ? std::string(kAmountsDigest) : std::string();
  for (const auto& [day, groups] : digests.as_object()) {
    if (!groups.is_object()) throw StateError("digests of " + std::string(day) + ": not an object");
    auto& out = state.digests[parse_day(day, "digests")];
    for (const auto& [key, id] : groups.as_object()) {
      if (!id.is_string()) throw StateError("digest " + std::string(key) + ": not a string");
      out.emplace(std::string(key), prefix + std::string(id.as_string()));
    }
  }
}

// Version 2: the estimated periods followed and the summary ids.
void parse_followed(const json::object& obj, State& state) {
  if (const auto* estimated = obj.if_contains("estimated"); estimated != nullptr) {
    if (!estimated->is_array()) throw StateError("\"estimated\" must be an array of dates");
    for (const auto& day : estimated->as_array()) {
      if (!day.is_string()) throw StateError("\"estimated\" must be an array of dates");
      state.estimated.insert(parse_day(day.as_string(), "estimated"));
    }
  }
  if (const auto* summaries = obj.if_contains("summaries"); summaries != nullptr) {
    if (!summaries->is_object()) throw StateError("\"summaries\" must be an object");
    for (const auto& [day, id] : summaries->as_object()) {
      if (!id.is_string()) throw StateError("summary of " + std::string(day) + ": not a string");
      state.summaries.emplace(parse_day(day, "summaries"), std::string(id.as_string()));
    }
  }
}

}  // namespace

std::string serialize(const State& state) {
  json::object root;
  root["version"] = kVersion;
  root["checkpoint"] =
      state.checkpoint ? json::value(common::format_date(*state.checkpoint)) : json::value(nullptr);
  json::object digests;
  for (const auto& [day, groups] : state.digests) {
    json::object g;
    for (const auto& [key, id] : groups)
      g[key] = id;
    digests[common::format_date(day)] = std::move(g);
  }
  root["digests"] = std::move(digests);
  json::array estimated;
  for (const Day day : state.estimated)
    estimated.emplace_back(common::format_date(day));
  root["estimated"] = std::move(estimated);
  json::object summaries;
  for (const auto& [day, id] : state.summaries)
    summaries[common::format_date(day)] = id;
  root["summaries"] = std::move(summaries);
  return json::serialize(root) + "\n";
}

State parse(std::string_view text) {
  json::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) throw StateError("not valid JSON: " + ec.message());
  if (!root.is_object()) throw StateError("not a JSON object");
  const auto& obj = root.as_object();
  const auto* version = obj.if_contains("version");
  if (version == nullptr || !version->is_int64() || version->as_int64() < kOldestVersion ||
      version->as_int64() > kVersion) {
    throw StateError("unsupported or missing \"version\" (this build reads versions " +
                     std::to_string(kOldestVersion) + " to " + std::to_string(kVersion) + ")");
  }
  State state;
  const bool legacy = version->as_int64() == 1;
  if (const auto* cp = obj.if_contains("checkpoint"); cp != nullptr && !cp->is_null()) {
    if (!cp->is_string()) throw StateError("\"checkpoint\" must be a date string");
    state.checkpoint = parse_day(cp->as_string(), "checkpoint");
  }
  if (const auto* digests = obj.if_contains("digests"); digests != nullptr) {
    parse_digests(*digests, legacy, state);
  }
  parse_followed(obj, state);
  return state;
}

std::string group_key(std::string_view subject) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(subject.data(), subject.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 12 && i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

void prune_digests(State& state, Day oldest) {
  state.digests.erase(state.digests.begin(), state.digests.lower_bound(oldest));
  state.summaries.erase(state.summaries.begin(), state.summaries.lower_bound(oldest));
}

void prune_unused(State& state, std::optional<Day> restate_from) {
  const auto used = [&](Day day) {
    return state.estimated.contains(day) || (restate_from && day >= *restate_from);
  };
  std::erase_if(state.digests, [&](const auto& entry) { return !used(entry.first); });
  std::erase_if(state.summaries, [&](const auto& entry) { return !used(entry.first); });
}

std::optional<std::string> read_if_exists(const fs::path& path, std::string_view label) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec) throw StateError(std::string(label) + "'" + path.string() + "': " + ec.message());
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw StateError(std::string(label) + "'" + path.string() +
                     "' cannot be read: " + errno_text());
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::optional<State> load(const fs::path& dir) {
  const fs::path path = dir / kStateFile;
  const auto text = read_if_exists(path, "state file ");
  if (!text) return std::nullopt;
  try {
    return parse(*text);
  } catch (const StateError& e) {
    throw StateError("state file '" + path.string() + "' is corrupt (" + e.what() +
                     "); move it away to start over from yesterday, or fix it");
  }
}

void write_atomically(const fs::path& dir, std::string_view name, std::string_view text) {
  create_dir(dir);
  const std::string final_path = (dir / name).string();
  const std::string temp_path = final_path + ".tmp";
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw StateError("cannot create '" + temp_path + "': " + errno_text());
  try {
    write_all(fd, text, temp_path);
    if (::fsync(fd) != 0) throw StateError("cannot fsync '" + temp_path + "': " + errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(temp_path.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(temp_path.c_str());
    throw StateError("cannot close '" + temp_path + "': " + errno_text());
  }
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(temp_path.c_str());
    throw StateError("cannot rename '" + temp_path + "' to '" + final_path + "': " + why);
  }
  // The rename itself must survive a crash.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

void save(const fs::path& dir, const State& state) {
  write_atomically(dir, kStateFile, serialize(state));
}

DirLock::DirLock(const fs::path& dir) {
  auto lock = try_acquire(dir);
  if (!lock) {
    throw StateError("state_dir '" + dir.string() +
                     "' is in use by another source-aws-billing process; two pullers on one "
                     "state would deliver every event twice");
  }
  fd_ = lock->fd_;
  lock->fd_ = -1;
}

std::optional<DirLock> DirLock::try_acquire(const fs::path& dir) {
  create_dir(dir);
  const std::string path = (dir / "lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw StateError("cannot open '" + path + "': " + errno_text());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  DirLock lock;
  lock.fd_ = fd;
  return lock;
}

DirLock::DirLock(DirLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace sab::state
