#include "delivery/dead_letter.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json.hpp"
#include "delivery/dry_run.hpp"
#include "support/cloudevents.hpp"
#include "support/temp_dir.hpp"

using namespace sab;
namespace fs = std::filesystem;

namespace {

events::Event event(std::string id, std::string service) {
  events::Event e;
  e.id = std::move(id);
  e.source = "cloud.aws.billing";
  e.type = "aws.service.daily";
  e.subject = "2023-01-15/" + service;
  e.time = "2023-01-16T02:00:00Z";
  e.estimated = true;
  e.data = "{\"date\":\"2023-01-15\",\"service\":" + common::json_string(service) + "}";
  return e;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("dead letter: creates the state dir and a 0600 file, one JSON line per event") {
  const test::TempDir dir("dl");
  delivery::DeadLetter dl((dir / "nested" / "state").string());
  CHECK(dl.path() == (dir / "nested" / "state" / "dead-letter.jsonl").string());
  dl.append(event("1", "Line\nbreak \"q\""));
  dl.append(event("2", "Überwachung"));
  struct stat st {};
  REQUIRE(::stat(dl.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const auto lines = lines_of(dl.path());
  REQUIRE(lines.size() == 2);
  events::Event back;
  std::string error;
  REQUIRE_MESSAGE(test::parse_structured(lines[0], back, error), error);
  CHECK(back == event("1", "Line\nbreak \"q\""));
  REQUIRE_MESSAGE(test::parse_structured(lines[1], back, error), error);
  CHECK(back == event("2", "Überwachung"));
  // A second writer appends.
  delivery::DeadLetter again((dir / "nested" / "state").string());
  again.append(event("3", "x"));
  CHECK(lines_of(dl.path()).size() == 3);
}

TEST_CASE("dead letter: a state dir it creates is 0700 even under umask 000") {
  const test::TempDir dir("dlumask");
  const mode_t old = ::umask(0);
  delivery::DeadLetter dl((dir / "state").string());
  dl.append(event("1", "x"));
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat((dir / "state").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(dl.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("dead letter: an unusable state dir is a clear error") {
  const test::TempDir dir("dlbad");
  std::ofstream(dir / "file") << "x";
  delivery::DeadLetter dl((dir / "file").string());  // a file where the directory should be
  CHECK_THROWS_WITH_AS(dl.append(event("1", "x")), doctest::Contains("file"), std::runtime_error);
}

TEST_CASE("dry run: one structured JSON line per event") {
  std::ostringstream out;
  std::vector<events::Event> batch{event("1", "a b"), event("2", "c\r\nd")};
  CHECK(delivery::write_json_lines(out, batch));
  std::istringstream in(out.str());
  std::vector<events::Event> back;
  for (std::string line; std::getline(in, line);) {
    events::Event e;
    std::string error;
    REQUIRE_MESSAGE(test::parse_structured(line, e, error), error);
    back.push_back(e);
  }
  CHECK(back == batch);
  std::ostringstream broken;
  broken.setstate(std::ios::badbit);
  CHECK_FALSE(delivery::write_json_lines(broken, batch));
}
