// Inputs found by the config loader's fuzz target (tests/fuzz/fuzz_config.cpp), kept as facts.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace {
std::optional<std::string> no_env(std::string_view) {
  return std::nullopt;
}
}  // namespace

TEST_CASE("config regression (fuzz): an empty key is named in its error") {
  // Found by fuzz_config: the error read ": unknown key", naming no key.
  const auto top = sab::config::load_from_string("target: http://sink:8080\n'': 1\n", no_env);
  REQUIRE(top.errors.size() == 1);
  CHECK(top.errors[0] == "\"\": unknown key");
  const auto nested =
      sab::config::load_from_string("target: http://sink:8080\nlog: {'': x}\n", no_env);
  REQUIRE(nested.errors.size() == 1);
  CHECK(nested.errors[0] == "log.\"\": unknown key");
}
