// Config errors found by the reliability integration tests (tests/integration/
// test_reliability_secrets.py and test_reliability_bad_input.py), kept as facts.
#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace {
std::optional<std::string> no_env(std::string_view) {
  return std::nullopt;
}

std::string all_errors(const sab::config::LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors)
    out += e + "\n";
  return out;
}
}  // namespace

TEST_CASE("config errors: a scalar where the secret mappings belong is not echoed") {
  // The error read "secret: must be a mapping, got '<the secret>'".
  const auto secret =
      sab::config::load_from_string("target: http://x\nsecret: wJalrXUtnFEMIK7MDENG\n", no_env);
  CHECK(all_errors(secret).find("secret: must be a mapping") != std::string::npos);
  CHECK(all_errors(secret).find("wJalrXUtnFEMIK7MDENG") == std::string::npos);
  // Likewise "delivery.headers: must be a mapping, got 'Authorization: Bearer <token>'".
  const auto headers = sab::config::load_from_string(
      "target: http://x\ndelivery: {headers: 'Authorization: Bearer tok-4711-xyz'}\n", no_env);
  CHECK(all_errors(headers).find("delivery.headers: must be a mapping") != std::string::npos);
  CHECK(all_errors(headers).find("tok-4711-xyz") == std::string::npos);
  // Other mappings still show what they got.
  const auto log = sab::config::load_from_string("target: http://x\nlog: loud\n", no_env);
  CHECK(all_errors(log).find("log: must be a mapping, got 'loud'") != std::string::npos);
}

TEST_CASE("config errors: an invalid header name is shown up to its first invalid character") {
  // '{Authorization:Bearer tok}' (no blank after the colon) is one YAML key; the error showed it.
  const auto r = sab::config::load_from_string(
      "target: http://x\ndelivery: {headers: {Authorization:Bearer tok-4711-xyz}}\n", no_env);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] ==
        "delivery.headers.Authorization...: is not a valid HTTP header name (shown up to its "
        "first invalid character)");
}

TEST_CASE("config errors: a directory given as the config file cannot be read") {
  // It read as an empty file: "target: is required".
  const auto dir = std::filesystem::temp_directory_path();
  const auto r = sab::config::load_file(dir.string(), no_env);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "config file '" + dir.string() + "': cannot be read: is a directory");
}
