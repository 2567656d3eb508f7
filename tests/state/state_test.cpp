#include "state/state.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "app/cli.hpp"
#include "support/temp_dir.hpp"

using namespace sab::state;
namespace fs = std::filesystem;

namespace {
Day ymd(const char* s) {
  return *sab::app::parse_date(s);
}

// A state_dir that does not exist yet, in a temporary directory removed at the end.
struct StateDir {
  sab::test::TempDir temp{"state-test"};
  fs::path path = temp / "state";
};
}  // namespace

TEST_CASE("state: serialize and parse round trip") {
  State s;
  s.checkpoint = ymd("2024-02-29");
  s.digests[ymd("2024-02-28")]["abc"] = "id-1";
  s.digests[ymd("2024-02-29")]["def"] = "id-2";
  CHECK(parse(serialize(s)) == s);
  CHECK(parse(serialize(State{})) == State{});
}

TEST_CASE("state: corrupt files are clear errors") {
  CHECK_THROWS_WITH_AS(parse("{\"version\":1,"), doctest::Contains("not valid JSON"), StateError);
  CHECK_THROWS_WITH_AS(parse("[]"), doctest::Contains("not a JSON object"), StateError);
  CHECK_THROWS_WITH_AS(parse("{\"checkpoint\":\"2024-01-01\"}"), doctest::Contains("version"),
                       StateError);
  CHECK_THROWS_WITH_AS(parse("{\"version\":1,\"checkpoint\":\"2024-13-01\"}"),
                       doctest::Contains("checkpoint: not a date"), StateError);
  CHECK_THROWS_AS(parse("{\"version\":1,\"digests\":{\"2024-01-01\":{\"k\":1}}}"), StateError);
}

TEST_CASE("state: save is atomic, 0600, and load reads it back") {
  StateDir dir;
  CHECK_FALSE(load(dir.path));  // no file yet: first start
  State s;
  s.checkpoint = ymd("2024-01-14");
  save(dir.path, s);
  struct stat st {};
  REQUIRE(::stat((dir.path / "state.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(fs::exists(dir.path / "state.json.tmp"));
  auto loaded = load(dir.path);
  REQUIRE(loaded);
  CHECK(*loaded == s);

  std::ofstream(dir.path / "state.json") << "garbage";
  CHECK_THROWS_WITH_AS(load(dir.path), doctest::Contains("is corrupt"), StateError);
}

TEST_CASE("state: save into a directory that cannot be written fails and keeps the old file") {
  if (::geteuid() == 0) {
    // root ignores directory permissions; /proc refuses everyone.
    CHECK_THROWS_AS(save("/proc/sab-no-such-dir", State{}), StateError);
    return;
  }
  StateDir dir;
  save(dir.path, State{});
  ::chmod(dir.path.c_str(), 0500);
  CHECK_THROWS_AS(save(dir.path, State{}), StateError);
  ::chmod(dir.path.c_str(), 0700);
}

TEST_CASE("state: pruning keeps the restatement window") {
  State s;
  s.digests[ymd("2024-01-01")]["a"] = "1";
  s.digests[ymd("2024-01-05")]["b"] = "2";
  prune_digests(s, ymd("2024-01-03"));
  CHECK(s.digests.size() == 1);
  CHECK(s.digests.begin()->first == ymd("2024-01-05"));
}

TEST_CASE("state: group keys are stable and distinct") {
  CHECK(group_key("2024-01-01/Amazon S3") == group_key("2024-01-01/Amazon S3"));
  CHECK(group_key("2024-01-01/Amazon S3") != group_key("2024-01-01/AWS Lambda"));
  CHECK(group_key("x").size() == 24);
}

TEST_CASE("state: the directory lock excludes a second holder") {
  StateDir dir;
  {
    DirLock first(dir.path);
    // flock locks are per open file description: a second open in this process conflicts too.
    CHECK_FALSE(DirLock::try_acquire(dir.path));
    CHECK_THROWS_WITH_AS(DirLock{dir.path}, doctest::Contains("in use by another"), StateError);
  }
  CHECK(DirLock::try_acquire(dir.path));
}

TEST_CASE("state: a state dir it creates is 0700 even under umask 000") {
  // Found by test_reliability_secrets.py: it was 0777, so anyone could replace state.json.
  StateDir dir;
  const mode_t old = ::umask(0);
  {
    DirLock lock(dir.path / "a");
    save(dir.path / "b", State{});
  }
  ::umask(old);
  for (const char* name : {"a", "b"}) {
    struct stat st {};
    REQUIRE(::stat((dir.path / name).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
  }
  // An existing directory keeps the mode its owner gave it.
  fs::create_directories(dir.path / "c");
  fs::permissions(dir.path / "c",
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  save(dir.path / "c", State{});
  struct stat st {};
  REQUIRE(::stat((dir.path / "c").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0750);
}

TEST_CASE("state: version 2 keeps followed periods and summaries; version 1 digests are migrated") {
  State s;
  s.checkpoint = ymd("2024-02-29");
  s.digests[ymd("2024-02-28")]["abc"] = "id-1";
  s.estimated = {ymd("2024-02-28"), ymd("2024-02-29")};
  s.summaries[ymd("2024-02-28")] = "summary-1";
  const std::string text = serialize(s);
  CHECK(text.find("\"version\":2") != std::string::npos);
  CHECK(parse(text) == s);

  // Version 1 stored ids without the estimated flag: the digests of the amounts alone.
  const State old = parse(
      R"({"version":1,"checkpoint":"2024-02-29","digests":{"2024-02-28":{"abc":"c4895bc0-0610-502c-b729-ec54ca20f7bd"}}})");
  CHECK(old.checkpoint == ymd("2024-02-29"));
  CHECK(old.digests.at(ymd("2024-02-28")).at("abc") ==
        std::string(kAmountsDigest) + "c4895bc0-0610-502c-b729-ec54ca20f7bd");
  CHECK(old.estimated.empty());
  CHECK(old.summaries.empty());
  // What a later version might write is refused, naming what this build reads.
  CHECK_THROWS_WITH_AS(parse(R"({"version":3})"), doctest::Contains("versions 1 to 2"), StateError);
  CHECK_THROWS_AS(parse(R"({"version":2,"estimated":"2024-01-01"})"), StateError);
  CHECK_THROWS_AS(parse(R"({"version":2,"summaries":{"2024-01-01":1}})"), StateError);
}

TEST_CASE("state: prune_unused keeps what the next pulls compare") {
  State s;
  for (const char* d : {"2024-02-01", "2024-02-20", "2024-02-27", "2024-02-28"}) {
    s.digests[ymd(d)]["k"] = "id";
    s.summaries[ymd(d)] = "summary";
  }
  s.estimated = {ymd("2024-02-01")};
  prune_unused(s, ymd("2024-02-27"));
  CHECK(s.digests.size() == 3);
  CHECK(s.digests.contains(ymd("2024-02-01")));  // followed
  CHECK_FALSE(s.digests.contains(ymd("2024-02-20")));
  CHECK(s.summaries.size() == 3);
  prune_unused(s, std::nullopt);
  CHECK(s.digests.size() == 1);
}
