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

TEST_CASE("config regression (fuzz): a filter the request builder cannot read is a config error") {
  // Found by fuzz_config: a filter value with a byte that is not UTF-8 (yaml-cpp passes it on)
  // was accepted; --check-config then died in render_masked and every pull failed in
  // build_request_body. Same for a filter nested deeper than the JSON parser's limit.
  const auto bad_utf8 = sab::config::load_from_string(
      "target: http://sink\nfilter: {CostCategories: {Key: \x94"
      "c, Values: [a]}}\n",
      no_env);
  REQUIRE(bad_utf8.errors.size() == 1);
  CHECK(bad_utf8.errors[0] == "filter: holds text that is not valid UTF-8");

  std::string deep = "target: http://sink\nfilter: ";
  for (int i = 0; i < 40; ++i)
    deep += "{Not: ";
  deep += "{Tags: {Key: a, Values: [b]}}";
  for (int i = 0; i < 40; ++i)
    deep += "}";
  const auto too_deep = sab::config::load_from_string(deep + "\n", no_env);
  REQUIRE(too_deep.errors.size() == 1);
  CHECK(too_deep.errors[0].rfind("filter: nests too deeply", 0) == 0);

  // Valid UTF-8 and a reasonable depth still load.
  const auto fine = sab::config::load_from_string(
      "target: http://sink\nfilter: {Not: {Tags: {Key: \"caf\xc3\xa9\", Values: [b]}}}\n", no_env);
  CHECK(fine.errors.empty());
  REQUIRE(fine.config);
  CHECK(fine.config->filter_json == R"({"Not":{"Tags":{"Key":"café","Values":["b"]}}})");
}

TEST_CASE("config regression (fuzz): a region taken from the endpoint follows the region rule") {
  // Found by fuzz_config: region was checked only when given; one read from the endpoint host
  // was used as it was, so --check-config showed a config that does not load back.
  // (Host names are case-insensitive, so upper case is lowered, not refused.)
  const auto bad = sab::config::load_from_string(
      "target: http://sink\nendpoint: https://ce.eu_we0Ast-1.amazonaws.com\n", no_env);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].rfind("endpoint: the region in its host name, 'eu_we0ast-1'", 0) == 0);
  const auto good = sab::config::load_from_string(
      "target: http://sink\nendpoint: https://ce.cn-north-1.amazonaws.com.cn\n", no_env);
  REQUIRE(good.config);
  CHECK(good.config->region == "cn-north-1");
  // An explicit region still wins over the host.
  const auto explicit_region = sab::config::load_from_string(
      "target: http://sink\nendpoint: https://ce.eu-we0Ast-1.amazonaws.com\nregion: eu-west-1\n",
      no_env);
  CHECK(explicit_region.errors.empty());
}
