#pragma once

// A fresh directory of a test's own under the system's temporary directory, made with mkdtemp
// (unique, mode 0700) and removed with all it holds when the TempDir goes. A path the code under
// test must create itself is a path below it: `dir / "state"`.

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace sab::test {

class TempDir {
 public:
  // `name` goes into the directory's name (sab-<name>-XXXXXX), to tell whose it is.
  explicit TempDir(const std::string& name) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("sab-" + name + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& below) const {
    return path_ / below;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace sab::test
