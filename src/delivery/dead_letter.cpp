#include "delivery/dead_letter.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "events/encoding.hpp"

namespace sab::delivery {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " '" + path + "': " + std::strerror(err));
}

}  // namespace

DeadLetter::DeadLetter(std::string state_dir)
    : state_dir_(std::move(state_dir)),
      path_((std::filesystem::path(state_dir_.empty() ? "." : state_dir_) / "dead-letter.jsonl")
                .string()) {}

void DeadLetter::append(const events::Event& event) {
  std::error_code ec;
  if (!state_dir_.empty()) {
    // Like the state's own: a directory created here is 0700 whatever the umask.
    if (std::filesystem::create_directories(state_dir_, ec) && !ec) {
      std::filesystem::permissions(state_dir_, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    }
    if (ec) fail("cannot create the state directory", state_dir_, ec.value());
  }
  line_.clear();
  events::append_structured_json(line_, event);
  line_.push_back('\n');

  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  bool created = false;
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    created = fd >= 0;
  }
  if (fd < 0) fail("cannot open the dead-letter file", path_, errno);
  std::size_t written = 0;
  while (written < line_.size()) {
    const ssize_t n = ::write(fd, line_.data() + written, line_.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail("cannot write the dead-letter file", path_, err);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot fsync the dead-letter file", path_, err);
  }
  if (::close(fd) != 0) fail("cannot close the dead-letter file", path_, errno);
  if (created) {
    // The new directory entry must survive a crash too.
    const std::string dir = state_dir_.empty() ? std::string(".") : state_dir_;
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }
}

}  // namespace sab::delivery
