#include "aws/shared_credentials.hpp"

#include <fstream>
#include <sstream>

#include "aws/text.hpp"

namespace sab::aws {

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

namespace {

// The profile name of a section header line ("[x]" in the credentials file, "[profile x]" in
// the config file: both are accepted).
std::string section_name(const std::string& line) {
  const auto close = line.find(']');
  std::string name = text::trim(
      std::string_view(line).substr(1, close == std::string::npos ? std::string::npos : close - 1));
  if (name.starts_with("profile ")) name = text::trim(std::string_view(name).substr(8));
  return name;
}

// One `key = value` line of the profile into `found`; other keys are ignored.
void apply_key(const std::string& line, Credentials& found) {
  const auto eq = line.find('=');
  if (eq == std::string::npos) return;
  const std::string key = text::lower(text::trim(std::string_view(line).substr(0, eq)));
  std::string value = text::trim(std::string_view(line).substr(eq + 1));
  if (key == "aws_access_key_id") {
    found.access_key_id = std::move(value);
  } else if (key == "aws_secret_access_key") {
    found.secret_access_key = std::move(value);
  } else if (key == "aws_session_token" || key == "aws_security_token") {
    found.session_token = std::move(value);
  }
}

}  // namespace

std::optional<Credentials> parse_shared_credentials(std::string_view ini,
                                                    std::string_view profile) {
  std::optional<Credentials> found;
  bool in_profile = false;
  std::size_t pos = 0;
  while (pos < ini.size()) {
    std::size_t nl = ini.find('\n', pos);
    if (nl == std::string_view::npos) nl = ini.size();
    const std::string line = text::trim(ini.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      in_profile = section_name(line) == profile;
      if (in_profile && !found) found.emplace();
    } else if (in_profile) {
      apply_key(line, *found);
    }
  }
  if (found && !found->complete()) {
    const std::string missing =
        found->access_key_id.empty() ? "aws_access_key_id" : "aws_secret_access_key";
    wipe(*found);
    throw CredentialError("profile '" + std::string(profile) + "' of the shared credentials file " +
                          "has no " + missing);
  }
  return found;
}

}  // namespace sab::aws
