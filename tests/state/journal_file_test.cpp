// The journal's file shell: appends survive a reopen, a torn tail is cut off and appending goes on
// after the valid records, the checkpoint truncates, group commits happen.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "app/cli.hpp"
#include "state/journal.hpp"
#include "state/state.hpp"

using namespace sab::state;
namespace fs = std::filesystem;

namespace {

Day ymd(const char* s) {
  return *sab::app::parse_date(s);
}

IdDigest digest_of(int n) {
  return id_digest("event-" + std::to_string(n));
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("sab-journal-test-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void append(AckJournal& journal, Day day, std::initializer_list<int> ids) {
  RecordBuilder b;
  for (int id : ids)
    b.add(day, digest_of(id));
  CHECK(journal.append(b));
}

}  // namespace

TEST_CASE("journal file: created with the first append (0600), read back after a reopen") {
  TempDir dir;
  std::size_t written = 0;
  std::size_t syncs = 0;
  {
    JournalOptions options;
    options.commit_window = std::chrono::milliseconds(1);
    options.records_written = [&](std::size_t n) { written += n; };
    options.synced = [&](double seconds) {
      CHECK(seconds >= 0);
      ++syncs;
    };
    AckJournal journal(dir.path, options);
    const auto opened = journal.open(std::nullopt, std::nullopt);
    CHECK(opened.records.empty());
    CHECK(!journal.has_file());
    CHECK(!fs::exists(journal.path()));
    append(journal, ymd("2024-03-01"), {1, 2});
    append(journal, ymd("2024-03-02"), {3});
    CHECK(journal.has_file());
    journal.sync();
    CHECK(syncs >= 1);
    CHECK(written == 2);
    struct stat st {};
    REQUIRE(::stat(journal.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(journal.read().size() == 2);
  }
  AckJournal again(dir.path);
  const auto opened = again.open(std::nullopt, std::nullopt);
  CHECK(opened.tail == JournalTail::clean);
  REQUIRE(opened.records.size() == 2);
  CHECK(opened.records[0] == JournalRecord{ymd("2024-03-01"), {digest_of(1), digest_of(2)}});
  // Appending goes on after what was there.
  append(again, ymd("2024-03-02"), {4});
  CHECK(again.read().size() == 3);
}

TEST_CASE("journal file: preallocated, records end with zeros; a reopen appends after them") {
  TempDir dir;
  AckJournal journal(dir.path);
  journal.open(std::nullopt, std::nullopt);
  append(journal, ymd("2024-03-01"), {1});
  const std::string text = file_text(journal.path());
  CHECK(text.size() >= 64 * 1024);
  CHECK(journal.size() == kJournalHeaderBytes + 8 + 4 + 16);
  CHECK(text.find_first_not_of('\0', journal.size()) == std::string::npos);
  // Past the preallocated space: the file grows, every record stays readable.
  for (int i = 0; i < 3000; ++i)
    append(journal, ymd("2024-03-02"), {i, i + 1});
  CHECK(journal.read().size() == 3001);
  CHECK(fs::file_size(journal.path()) >= journal.size());
  AckJournal again(dir.path);
  CHECK(again.open(std::nullopt, std::nullopt).records.size() == 3001);
}

TEST_CASE("journal file: a torn tail is cut off on open; later appends are read back") {
  TempDir dir;
  const fs::path path = dir.path / kJournalFile;
  std::size_t valid = 0;
  {
    AckJournal journal(dir.path);
    journal.open(std::nullopt, std::nullopt);
    append(journal, ymd("2024-03-01"), {1});
    append(journal, ymd("2024-03-01"), {2});
    valid = journal.size();
  }
  const std::string whole = file_text(path);
  // A crash in the middle of the next record: its first 13 bytes made it.
  RecordBuilder next;
  next.add(ymd("2024-03-01"), digest_of(3));
  {
    std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(valid));
    out << std::string(next.bytes()).substr(0, 13);
  }
  AckJournal journal(dir.path);
  const auto opened = journal.open(std::nullopt, std::nullopt);
  CHECK(opened.tail == JournalTail::torn);
  CHECK(opened.ignored_bytes == 13);
  CHECK(opened.records.size() == 2);
  CHECK(file_text(path) == whole);  // rewritten without the tail
  append(journal, ymd("2024-03-01"), {4});
  const auto records = journal.read();
  REQUIRE(records.size() == 3);
  CHECK(records[2].ids == std::vector<IdDigest>{digest_of(4)});
}

TEST_CASE("journal file: garbage or another version is not trusted, never fatal") {
  TempDir dir;
  const fs::path path = dir.path / kJournalFile;
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string("SABJ\x07\x00\x00\x00 whatever follows", 25);
  }
  AckJournal journal(dir.path);
  const auto opened = journal.open(std::nullopt, std::nullopt);
  CHECK(opened.tail == JournalTail::bad_header);
  CHECK(opened.records.empty());
  CHECK(!fs::exists(path));  // nothing worth keeping: removed
  append(journal, ymd("2024-03-01"), {1});
  CHECK(journal.read().size() == 1);
}

TEST_CASE("journal file: open and retain keep the open periods only") {
  TempDir dir;
  const fs::path path = dir.path / kJournalFile;
  {
    AckJournal journal(dir.path);
    journal.open(std::nullopt, std::nullopt);
    append(journal, ymd("2024-03-01"), {1});
    append(journal, ymd("2024-03-02"), {2});
    append(journal, ymd("2024-03-03"), {3});
  }
  AckJournal journal(dir.path);
  // Checkpoint 03-01: its record goes at open; restatement from 03-01 would keep it.
  auto opened = journal.open(ymd("2024-03-01"), std::nullopt);
  CHECK(opened.dropped_records == 1);
  CHECK(opened.records.size() == 2);
  CHECK(journal.read().size() == 2);
  CHECK(!journal.wanted(ymd("2024-03-01")));
  CHECK(journal.wanted(ymd("2024-03-02")));
  // The checkpoint moves to 03-02: one record left, rewritten atomically (no temp file left).
  journal.retain(ymd("2024-03-02"));
  const auto records = journal.read();
  REQUIRE(records.size() == 1);
  CHECK(records[0].period == ymd("2024-03-03"));
  CHECK(!fs::exists(path.string() + ".tmp"));
  // A retain that drops nothing leaves the file as it is.
  const std::string before = file_text(path);
  journal.retain(ymd("2024-03-02"));
  CHECK(file_text(path) == before);
  // Past every record: the file goes; the next append creates it again.
  journal.retain(ymd("2024-03-03"));
  CHECK(!fs::exists(path));
  CHECK(journal.read().empty());
  append(journal, ymd("2024-03-04"), {4});
  CHECK(journal.read().size() == 1);
  CHECK(fs::exists(path));
}

TEST_CASE("journal file: restated days stay at open, go once state.json holds their digests") {
  TempDir dir;
  {
    AckJournal journal(dir.path);
    journal.open(std::nullopt, std::nullopt);
    append(journal, ymd("2024-03-01"), {1});
    append(journal, ymd("2024-03-04"), {2});
  }
  AckJournal journal(dir.path);
  const auto opened = journal.open(ymd("2024-03-03"), ymd("2024-03-01"));
  CHECK(opened.records.size() == 2);
  CHECK(journal.wanted(ymd("2024-03-02")));
  journal.retain(ymd("2024-03-04"));
  CHECK(journal.read().empty());
}

TEST_CASE("journal file: a journal that cannot be written fails appends, never throws") {
  if (::geteuid() == 0) return;  // root writes anywhere
  TempDir dir;
  AckJournal journal(dir.path);
  journal.open(std::nullopt, std::nullopt);
  fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
  RecordBuilder b;
  b.add(ymd("2024-03-01"), digest_of(1));
  CHECK(!journal.append(b));
  fs::permissions(dir.path, fs::perms::owner_all);
  CHECK(journal.append(b));
}
