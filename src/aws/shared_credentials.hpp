#pragma once

// The AWS shared credentials file (INI): reading it and finding a profile's keys. Parsing is
// pure; the file is read through an injectable reader.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"

namespace sab::aws {

// Reads a whole file; nullopt when it cannot be read. Injectable for tests.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
FileReader real_file_reader();

// The [profile] section of an AWS shared credentials file (INI: '#' and ';' comments, keys
// case-insensitive, whitespace around '=' ignored). nullopt when the profile is not there;
// CredentialError when it is there but lacks a key.
std::optional<Credentials> parse_shared_credentials(std::string_view ini, std::string_view profile);

}  // namespace sab::aws
