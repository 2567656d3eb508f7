#include "app/cli.hpp"

#include <doctest/doctest.h>

using namespace sab::app;

namespace {
ParseResult parse(std::vector<std::string_view> args) {
  return parse_args(args);
}
}  // namespace

TEST_CASE("cli: no arguments runs the service with defaults") {
  auto r = parse({});
  CHECK(r.error.empty());
  CHECK_FALSE(r.options.once);
  CHECK_FALSE(r.options.config_path);
}

TEST_CASE("cli: every option") {
  auto r = parse(
      {"--config", "c.yml", "--once", "--from", "2024-02-28", "--to=2024-03-01", "--dry-run"});
  REQUIRE(r.error.empty());
  CHECK(r.options.config_path == "c.yml");
  CHECK(r.options.once);
  CHECK(r.options.dry_run);
  CHECK(format_date(*r.options.from) == "2024-02-28");
  CHECK(format_date(*r.options.to) == "2024-03-01");
  auto d = parse({"--once", "--date", "2024-02-29", "--config=x.yml"});
  REQUIRE(d.error.empty());
  CHECK(format_date(*d.options.date) == "2024-02-29");
  CHECK(d.options.config_path == "x.yml");
  CHECK(parse({"--check-config"}).options.check_config);
  CHECK(parse({"--version"}).options.version);
  CHECK(parse({"--help"}).options.help);
}

TEST_CASE("cli: usage errors") {
  CHECK(parse({"--bogus"}).error == "unknown argument '--bogus'");
  CHECK(parse({"--config"}).error == "--config needs a file name");
  CHECK(parse({"--once", "--date", "2023-02-29"}).error.find("not a valid date") !=
        std::string::npos);
  CHECK(parse({"--once", "--date", "2023-1-5"}).error.find("not a valid date") !=
        std::string::npos);
  CHECK(parse({"--once", "--date"}).error == "--date needs a date (YYYY-MM-DD)");
  CHECK(parse({"--once", "--from", "2024-01-02"}).error == "--from needs --to");
  CHECK(parse({"--once", "--to", "2024-01-02"}).error == "--to needs --from");
  CHECK(parse({"--once", "--from", "2024-01-03", "--to", "2024-01-02"}).error.find("is after") !=
        std::string::npos);
  CHECK(parse({"--once", "--date", "2024-01-03", "--from", "2024-01-01", "--to", "2024-01-02"})
            .error.find("cannot be combined") != std::string::npos);
  CHECK(parse({"--date", "2024-01-03"}).error.find("add --once") != std::string::npos);
  CHECK(parse({"--once=yes"}).error == "--once takes no value");
  CHECK(parse({"--check-config", "--once"}).error.find("cannot be combined") != std::string::npos);
}

TEST_CASE("cli: usage names the exit codes") {
  const std::string text = usage();
  CHECK(text.find("Exit codes: 0 ok; 1 a failed run") != std::string::npos);
  CHECK(text.find("the checkpoint could not be saved") != std::string::npos);
  CHECK(text.find("2 usage or config error") != std::string::npos);
}

TEST_CASE("cli: dates") {
  CHECK(parse_date("2024-02-29"));
  CHECK_FALSE(parse_date("2023-02-29"));
  CHECK_FALSE(parse_date("2024-13-01"));
  CHECK_FALSE(parse_date("2024-00-10"));
  CHECK_FALSE(parse_date("20240101"));
  CHECK_FALSE(parse_date("2024-01-01T00"));
  CHECK(format_date(*parse_date("1999-12-31")) == "1999-12-31");
}
