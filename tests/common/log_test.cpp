#include "common/log.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

using namespace sab;

namespace {
struct Capture {
  std::vector<std::string> lines;
  Capture() {
    log::set_sink([this](std::string_view l) { lines.emplace_back(l); });
  }
  ~Capture() {
    log::set_sink(nullptr);
    log::clear_secrets();
    log::configure(log::Level::info, log::Format::json);
  }
};
}  // namespace

TEST_CASE("log: json lines are valid JSON with the fields") {
  Capture c;
  log::configure(log::Level::info, log::Format::json);
  log::info("pulled", {{"days", 3}, {"service", "a \"quoted\"\nname"}, {"ok", true}});
  log::debug("hidden");
  REQUIRE(c.lines.size() == 1);
  auto v = boost::json::parse(c.lines[0]);
  CHECK(v.at("level") == "info");
  CHECK(v.at("msg") == "pulled");
  CHECK(v.at("days") == 3);
  CHECK(v.at("service") == "a \"quoted\"\nname");
  CHECK(v.at("ok") == true);
  CHECK(c.lines[0].back() == '\n');
  CHECK(c.lines[0].find('\n') == c.lines[0].size() - 1);
}

TEST_CASE("log: text lines stay on one line") {
  Capture c;
  log::configure(log::Level::debug, log::Format::text);
  log::warn("two\nlines", {{"k", "v w"}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find(" WARN two lines k=\"v w\"") != std::string::npos);
}

TEST_CASE("log: registered secrets are redacted everywhere in a line") {
  Capture c;
  log::add_secret("wJalrXUtnFEMI");
  log::add_secret("ab");  // too short to be a credential: ignored
  log::error("failed with wJalrXUtnFEMI", {{"detail", "key=wJalrXUtnFEMI;"}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(c.lines[0].find("******") != std::string::npos);
  CHECK(log::redact("x wJalrXUtnFEMI y") == "x ****** y");
}
