#pragma once

// The acknowledgement journal (SPEC §4): an append-only file in state_dir with the ids of the
// events acknowledged (or dead-lettered) in periods the checkpoint has not passed, so a restart
// re-sends only what was in flight. The record format, its checks and the set of ids to skip are
// pure functions; AckJournal is the thin file shell (append, group commit, rewrite).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sab::state {

using Day = std::chrono::sys_days;

// --- The format (pure) ------------------------------------------------------------------------
//
// A header, then records, then zeros (preallocated space), all integers little-endian:
//   header: "SABJ" then u32 version (kJournalVersion)
//   record: u32 length of the payload, u32 CRC32C of (the length's 4 bytes + the payload),
//           payload = i32 period start (days since 1970-01-01) + 16 bytes per event id.
// A zero length ends the records. A record is appended whole or not at all as far as the reader
// is concerned: its length is written last, and the length and the checksum find a torn or
// corrupt tail; reading stops there.

inline constexpr std::string_view kJournalFile = "acks.journal";
inline constexpr std::uint32_t kJournalVersion = 1;
inline constexpr std::size_t kJournalHeaderBytes = 8;
inline constexpr std::size_t kRecordHeaderBytes = 8;
inline constexpr std::size_t kMaxIdsPerRecord = 65536;

// An event id in 16 bytes: the UUID's own bytes (this service's ids are UUIDs), else the first 16
// bytes of its SHA-256. The same id always gives the same digest.
using IdDigest = std::array<std::uint8_t, 16>;
IdDigest id_digest(std::string_view id);

// CRC32C (Castagnoli), as in iSCSI and ext4: `crc32c("123456789") == 0xE3069283`.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

struct JournalRecord {
  Day period;  // start of the billing period (a day, or a month's first day)
  std::vector<IdDigest> ids;
  bool operator==(const JournalRecord&) const = default;
};

std::string journal_header();

// Builds records into one buffer, for one write: a new record starts whenever the period changes.
class RecordBuilder {
 public:
  void add(Day period, const IdDigest& id);
  // The records so far, each one finished (length and checksum); empty when nothing was added.
  std::string_view bytes();
  std::size_t records() const { return records_; }
  std::size_t ids() const { return ids_; }
  // The oldest and newest period added (none when empty).
  std::optional<Day> oldest() const { return oldest_; }
  std::optional<Day> newest() const { return newest_; }
  void clear();

 private:
  void finish();
  std::string buffer_;
  std::size_t open_ = std::string::npos;  // offset of the record still being built
  Day period_{};
  std::size_t open_ids_ = 0;
  std::size_t records_ = 0;
  std::size_t ids_ = 0;
  std::optional<Day> oldest_;
  std::optional<Day> newest_;
};

// How the bytes of a journal end.
enum class JournalTail {
  clean,       // every byte belongs to a valid record (or the file is empty)
  torn,        // the last record runs past the end: a crash in the middle of a write
  corrupt,     // a record's length or checksum is wrong
  bad_header,  // not a journal, or another version: nothing in it is trusted
};
std::string_view to_string(JournalTail tail);

struct DecodedJournal {
  std::vector<JournalRecord> records;  // the valid records before the tail
  std::size_t valid_bytes = 0;         // header and valid records: where appending may go on
                                       // (zeros after it are preallocated space: clean)
  JournalTail tail = JournalTail::clean;
  std::string problem;  // what is wrong at valid_bytes (empty when clean)
};

// Reads records up to the first one that is torn or corrupt; the rest is ignored, never trusted.
DecodedJournal decode_journal(std::string_view bytes);

// Header plus records, as a rewrite writes them.
std::string encode_journal(const std::vector<JournalRecord>& records);

// Which periods' acknowledgements are worth keeping: those after the checkpoint (not delivered
// whole yet) and, with restatement, those from `restate_from` on (a restatement pull may send
// their changed groups again). Everything else is covered by state.json.
bool worth_keeping(Day period, std::optional<Day> checkpoint, std::optional<Day> restate_from);
std::vector<JournalRecord> keep_open(std::vector<JournalRecord> records,
                                     std::optional<Day> checkpoint,
                                     std::optional<Day> restate_from);

// The (period, id) pairs already settled: their events are not sent again.
class SkipSet {
 public:
  SkipSet() = default;
  explicit SkipSet(const std::vector<JournalRecord>& records);
  bool contains(Day period, const IdDigest& id) const;
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<std::int32_t, IdDigest>> entries_;  // sorted
};

// --- The file (thin shell) --------------------------------------------------------------------

struct JournalOptions {
  // Group commit: after the first acknowledgement written since the last fdatasync, the commit
  // thread waits this long for more, then makes them all durable with one fdatasync.
  std::chrono::milliseconds commit_window{10};
  std::function<void(std::size_t records)> records_written;  // on the appending thread
  std::function<void(double seconds)> synced;  // one fdatasync and its duration; commit thread
};

// <state_dir>/acks.journal. The file is preallocated (zeros after the records) and mapped shared:
// an append is a copy into the page cache, no system call, and a killed process loses nothing it
// appended. A thread makes appends durable (one fdatasync per commit window), so the appending
// thread never waits for the disk. A power loss may lose the last window: that only widens what
// a restart re-sends, never loses an event, because the checkpoint (state.json) moves on its
// own, only after every event of a period was settled.
//
// Use from one thread (the io_context's); the commit thread is internal. Never throws after
// open(): a journal that cannot be written is logged and the events are simply not journalled.
class AckJournal {
 public:
  explicit AckJournal(std::filesystem::path dir, JournalOptions options = {});
  ~AckJournal();
  AckJournal(const AckJournal&) = delete;
  AckJournal& operator=(const AckJournal&) = delete;

  struct Opened {
    std::vector<JournalRecord> records;  // the records worth keeping
    std::size_t dropped_records = 0;     // records of periods no longer open
    std::size_t ignored_bytes = 0;       // a torn or corrupt tail, or a file not trusted
    JournalTail tail = JournalTail::clean;
    std::string problem;
  };
  // Reads the journal (a missing file is an empty journal), keeps the records worth keeping and,
  // when anything was dropped or ignored, rewrites the file with those only (atomically). A torn
  // or corrupt tail is reported in the result, never trusted and never fatal. Throws StateError
  // only when the file cannot be read or rewritten at all.
  Opened open(std::optional<Day> checkpoint, std::optional<Day> restate_from);

  // Whether acknowledgements of `period` are worth appending (see worth_keeping).
  bool wanted(Day period) const { return worth_keeping(period, checkpoint_, restate_from_); }

  // Appends the builder's records with one write(); creates the file when there is none. False
  // when it failed (the first failure of a run is logged): those acknowledgements are not
  // journalled, and a crash would re-send them.
  bool append(RecordBuilder& records);

  // The valid records on file now (for the next pull's skip set).
  std::vector<JournalRecord> read() const;

  // state.json was saved with `checkpoint`: keeps only the records of periods after it, by an
  // atomic rewrite, or removes the file when none is left (restated days' acknowledgements are
  // in state.json's digests now). Errors are logged, never thrown: an old record left behind is
  // harmless, it names an event that was delivered.
  void retain(std::optional<Day> checkpoint);

  // Blocks until everything appended so far is durable (tests; the destructor does it too).
  void sync();

  const std::filesystem::path& path() const { return path_; }
  bool has_file() const { return fd_ >= 0; }
  std::size_t size() const { return size_; }  // bytes of the header and records

 private:
  void commit_loop();
  void commit_once(bool data, bool dir);
  bool create();
  bool grow(std::size_t needed);
  // Reserves `capacity` bytes of the file and maps them; the reason when it cannot.
  std::string map_file(int fd, std::size_t capacity, char*& map);
  std::string read_bytes() const;
  void replace_file(const std::vector<JournalRecord>& records);
  void set_file(int fd, char* map, std::size_t capacity);
  void note_span(std::optional<Day> oldest, std::optional<Day> newest);
  void mark_dirty(bool dir);
  void note_write_failure(const std::string& why);

  std::filesystem::path dir_;
  std::filesystem::path path_;
  JournalOptions options_;
  std::optional<Day> checkpoint_;
  std::optional<Day> restate_from_;
  int fd_ = -1;               // written by the owning thread only, under fd_mutex_
  char* map_ = nullptr;       // the whole file, mapped shared
  std::size_t capacity_ = 0;  // the file's size (preallocated: zeros after the records)
  std::size_t size_ = 0;      // bytes of the header and the valid records
  std::optional<Day> oldest_;
  std::optional<Day> newest_;
  bool failure_logged_ = false;

  // Group commit.
  std::mutex fd_mutex_;  // held by the commit thread during fdatasync, by set_fd() to swap fds
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::condition_variable synced_;
  std::atomic<bool> dirty_{false};          // appended since the last fdatasync began
  std::atomic<std::uint64_t> appended_{0};  // appends so far
  bool dir_dirty_ = false;            // guarded by wake_mutex_: the directory entry needs an fsync
  bool flush_now_ = false;            // guarded by wake_mutex_: sync() waits, skip the window
  bool stopping_ = false;             // guarded by wake_mutex_
  std::uint64_t completed_ = 0;       // guarded by wake_mutex_: appends known durable
  bool sync_failure_logged_ = false;  // commit thread only
  std::thread committer_;
};

}  // namespace sab::state
