#include "state/journal.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "state/state.hpp"

namespace sab::state {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "SABJ";
constexpr std::size_t kPeriodBytes = 4;
constexpr std::size_t kIdBytes = 16;
constexpr std::size_t kMaxPayload = kPeriodBytes + kIdBytes * kMaxIdsPerRecord;

// CRC32C, reflected polynomial 0x82F63B78, one table of 256 entries.
constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

void put_u32(std::string& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFFU);
}

void append_u32(std::string& out, std::uint32_t v) {
  const std::size_t at = out.size();
  out.resize(at + 4);
  put_u32(out, at, v);
}

std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  return v;
}

std::int32_t day_number(Day day) {
  return static_cast<std::int32_t>(day.time_since_epoch().count());
}

Day from_day_number(std::int32_t n) {
  return Day{std::chrono::days{n}};
}

// Hex digit values; 0xFF for anything else. Every acknowledged event goes through here.
constexpr std::array<std::uint8_t, 256> make_hex_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table)
    v = 0xFF;
  for (int c = 0; c < 10; ++c)
    table['0' + c] = static_cast<std::uint8_t>(c);
  for (int c = 0; c < 6; ++c) {
    table['a' + c] = static_cast<std::uint8_t>(10 + c);
    table['A' + c] = static_cast<std::uint8_t>(10 + c);
  }
  return table;
}
constexpr auto kHex = make_hex_table();

// The 16 bytes of an 8-4-4-4-12 UUID text, or nothing.
std::optional<IdDigest> uuid_bytes(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return std::nullopt;
  }
  // Where each byte's two digits start.
  static constexpr std::array<std::uint8_t, 16> kAt = {0,  2,  4,  6,  9,  11, 14, 16,
                                                       19, 21, 24, 26, 28, 30, 32, 34};
  IdDigest out{};
  unsigned bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint8_t hi = kHex[static_cast<unsigned char>(text[kAt[i]])];
    const std::uint8_t lo = kHex[static_cast<unsigned char>(text[kAt[i] + 1U])];
    bad |= static_cast<unsigned>(hi | lo) & 0xF0U;
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  if (bad != 0) return std::nullopt;
  return out;
}

std::string errno_text() {
  return std::strerror(errno);
}

// Writes every byte or fails with errno set (EINTR retried).
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  for (char ch : bytes)
    crc = kCrcTable[(crc ^ static_cast<unsigned char>(ch)) & 0xFFU] ^ (crc >> 8);
  return ~crc;
}

IdDigest id_digest(std::string_view id) {
  if (auto uuid = uuid_bytes(id)) return *uuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(id.data(), id.size(), digest, &length, EVP_sha256(), nullptr);
  IdDigest out{};
  std::copy_n(digest, out.size(), out.begin());
  return out;
}

std::string journal_header() {
  std::string out(kMagic);
  append_u32(out, kJournalVersion);
  return out;
}

// --- RecordBuilder -----------------------------------------------------------------------------

void RecordBuilder::add(Day period, const IdDigest& id) {
  if (open_ != std::string::npos && (period != period_ || open_ids_ >= kMaxIdsPerRecord)) {
    finish();
  }
  if (open_ == std::string::npos) {
    open_ = buffer_.size();
    period_ = period;
    buffer_.resize(buffer_.size() + kRecordHeaderBytes);  // length and checksum, set by finish()
    append_u32(buffer_, static_cast<std::uint32_t>(day_number(period)));
  }
  buffer_.append(reinterpret_cast<const char*>(id.data()), id.size());
  ++open_ids_;
  ++ids_;
  if (!oldest_ || period < *oldest_) oldest_ = period;
  if (!newest_ || period > *newest_) newest_ = period;
}

void RecordBuilder::finish() {
  if (open_ == std::string::npos) return;
  const std::size_t payload = buffer_.size() - open_ - kRecordHeaderBytes;
  put_u32(buffer_, open_, static_cast<std::uint32_t>(payload));
  std::uint32_t crc = crc32c(std::string_view(buffer_).substr(open_, 4));
  crc = crc32c(std::string_view(buffer_).substr(open_ + kRecordHeaderBytes), crc);
  put_u32(buffer_, open_ + 4, crc);
  open_ = std::string::npos;
  open_ids_ = 0;
  ++records_;
}

std::string_view RecordBuilder::bytes() {
  finish();
  return buffer_;
}

void RecordBuilder::clear() {
  buffer_.clear();
  open_ = std::string::npos;
  open_ids_ = 0;
  records_ = 0;
  ids_ = 0;
  oldest_.reset();
  newest_.reset();
}

// --- Decoding ----------------------------------------------------------------------------------

std::string_view to_string(JournalTail tail) {
  switch (tail) {
    case JournalTail::clean:
      return "clean";
    case JournalTail::torn:
      return "torn";
    case JournalTail::corrupt:
      return "corrupt";
    case JournalTail::bad_header:
      return "bad_header";
  }
  return "corrupt";
}

namespace {

// Checks the header; false (with `out` filled in) when nothing can be trusted.
bool check_header(std::string_view bytes, DecodedJournal& out) {
  if (bytes.empty()) return true;  // no journal yet
  if (bytes.size() < kJournalHeaderBytes) {
    out.tail = kMagic.starts_with(bytes.substr(0, std::min(bytes.size(), kMagic.size())))
                   ? JournalTail::torn
                   : JournalTail::bad_header;
    out.problem = "the header is cut short (" + std::to_string(bytes.size()) + " bytes)";
    return false;
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    out.tail = JournalTail::bad_header;
    out.problem = "not a journal (no \"SABJ\" header)";
    return false;
  }
  if (const std::uint32_t version = get_u32(bytes, kMagic.size()); version != kJournalVersion) {
    out.tail = JournalTail::bad_header;
    out.problem = "journal version " + std::to_string(version) + " (this build reads version " +
                  std::to_string(kJournalVersion) + ")";
    return false;
  }
  out.valid_bytes = kJournalHeaderBytes;
  return true;
}

// Reads the record at `at`; sets the tail and the problem when it is not whole and valid.
bool decode_record(std::string_view bytes, std::size_t at, DecodedJournal& out) {
  const std::size_t left = bytes.size() - at;
  const auto where = " at byte " + std::to_string(at);
  if (left < kRecordHeaderBytes) {
    out.tail = JournalTail::torn;
    out.problem = "a record header is cut short" + where;
    return false;
  }
  const std::uint32_t length = get_u32(bytes, at);
  if (length < kPeriodBytes + kIdBytes || length > kMaxPayload ||
      (length - kPeriodBytes) % kIdBytes != 0) {
    out.tail = JournalTail::corrupt;
    out.problem = "a record has an impossible length (" + std::to_string(length) + ")" + where;
    return false;
  }
  if (left - kRecordHeaderBytes < length) {
    out.tail = JournalTail::torn;
    out.problem = "the last record is cut short (" + std::to_string(left - kRecordHeaderBytes) +
                  " of " + std::to_string(length) + " bytes)" + where;
    return false;
  }
  const std::string_view payload = bytes.substr(at + kRecordHeaderBytes, length);
  const std::uint32_t crc = crc32c(payload, crc32c(bytes.substr(at, 4)));
  if (crc != get_u32(bytes, at + 4)) {
    // Followed by nothing but zeros: the last record, cut short in the preallocated space.
    const bool last =
        bytes.find_first_not_of('\0', at + kRecordHeaderBytes + length) == std::string_view::npos;
    out.tail = last ? JournalTail::torn : JournalTail::corrupt;
    out.problem = std::string(last ? "the last record is incomplete: " : "") +
                  "a record's checksum does not match" + where;
    return false;
  }
  JournalRecord record;
  record.period = from_day_number(static_cast<std::int32_t>(get_u32(payload, 0)));
  const std::size_t count = (length - kPeriodBytes) / kIdBytes;
  record.ids.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto id = payload.substr(kPeriodBytes + i * kIdBytes, kIdBytes);
    std::copy(id.begin(), id.end(), reinterpret_cast<char*>(record.ids[i].data()));
  }
  out.records.push_back(std::move(record));
  out.valid_bytes = at + kRecordHeaderBytes + length;
  return true;
}

}  // namespace

namespace {

// Whether a record starts at `at` or the records ended there: a zero length (or fewer than four
// bytes, all zero) is where appending stopped. Zeros up to the end are the file's preallocated
// space; anything else is a record whose length was not written yet.
bool records_end(std::string_view bytes, std::size_t at, DecodedJournal& out) {
  const std::string_view rest = bytes.substr(at);
  if (rest.size() >= 4 && get_u32(bytes, at) != 0) return false;
  const bool zeros = rest.find_first_not_of('\0') == std::string_view::npos;
  if (rest.size() < 4 && !zeros) return false;  // a cut-short header: decode_record says so
  if (!zeros) {
    out.tail = JournalTail::torn;
    out.problem = "a record was being written (no length yet) at byte " + std::to_string(at);
  }
  return true;
}

}  // namespace

DecodedJournal decode_journal(std::string_view bytes) {
  DecodedJournal out;
  if (!check_header(bytes, out)) return out;
  while (out.valid_bytes < bytes.size()) {
    if (records_end(bytes, out.valid_bytes, out)) break;
    if (!decode_record(bytes, out.valid_bytes, out)) break;
  }
  return out;
}

std::string encode_journal(const std::vector<JournalRecord>& records) {
  RecordBuilder builder;
  std::string out = journal_header();
  for (const auto& record : records) {
    for (const auto& id : record.ids)
      builder.add(record.period, id);
    out.append(builder.bytes());
    builder.clear();
  }
  return out;
}

bool worth_keeping(Day period, std::optional<Day> checkpoint, std::optional<Day> restate_from) {
  return !checkpoint || period > *checkpoint || (restate_from && period >= *restate_from);
}

std::vector<JournalRecord> keep_open(std::vector<JournalRecord> records,
                                     std::optional<Day> checkpoint,
                                     std::optional<Day> restate_from) {
  std::erase_if(records, [&](const JournalRecord& r) {
    return !worth_keeping(r.period, checkpoint, restate_from);
  });
  return records;
}

SkipSet::SkipSet(const std::vector<JournalRecord>& records) {
  for (const auto& record : records) {
    for (const auto& id : record.ids)
      entries_.emplace_back(day_number(record.period), id);
  }
  std::sort(entries_.begin(), entries_.end());
  entries_.erase(std::unique(entries_.begin(), entries_.end()), entries_.end());
}

bool SkipSet::contains(Day period, const IdDigest& id) const {
  return std::binary_search(entries_.begin(), entries_.end(), std::pair{day_number(period), id});
}

// --- AckJournal --------------------------------------------------------------------------------

namespace {

constexpr std::size_t kInitialCapacity = std::size_t{64} * 1024;

std::size_t capacity_for(std::size_t bytes) {
  std::size_t capacity = kInitialCapacity;
  while (capacity < bytes)
    capacity *= 2;
  return capacity;
}

// A record's length, written last: until then the reader sees where appending stopped. Records
// and the header are multiples of 4 bytes, so it is one aligned 4-byte store.
void publish_length(char* at, std::string_view record) {
  std::memcpy(at, record.data(), 4);
}

}  // namespace

AckJournal::AckJournal(fs::path dir, JournalOptions options)
    : dir_(std::move(dir)), path_(dir_ / kJournalFile), options_(std::move(options)) {
  committer_ = std::thread([this] { commit_loop(); });
}

AckJournal::~AckJournal() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  committer_.join();
  set_file(-1, nullptr, 0);
}

void AckJournal::set_file(int fd, char* map, std::size_t capacity) {
  int old = -1;
  {
    // Waits for an fdatasync in progress on the old descriptor (a few ms, once per pull).
    std::lock_guard lock(fd_mutex_);
    old = fd_;
    fd_ = fd;
  }
  if (map_ != nullptr) ::munmap(map_, capacity_);
  map_ = map;
  capacity_ = capacity;
  if (old >= 0 && old != fd) ::close(old);
}

std::string AckJournal::map_file(int fd, std::size_t capacity, char*& map) {
  // Blocks are reserved now, so writing through the mapping never meets a full disk (SIGBUS).
  if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(capacity)); rc != 0) {
    return "cannot allocate " + std::to_string(capacity) + " bytes for '" + path_.string() +
           "': " + std::strerror(rc);
  }
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return "cannot map '" + path_.string() + "': " + errno_text();
  map = static_cast<char*>(p);
  return {};
}

bool AckJournal::grow(std::size_t needed) {
  const std::size_t capacity = capacity_for(needed);
  if (const int rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(capacity)); rc != 0) {
    note_write_failure("cannot allocate " + std::to_string(capacity) + " bytes for '" +
                       path_.string() + "': " + std::strerror(rc));
    return false;
  }
  void* p = ::mremap(map_, capacity_, capacity, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) {
    note_write_failure("cannot map '" + path_.string() + "': " + errno_text());
    return false;
  }
  map_ = static_cast<char*>(p);
  capacity_ = capacity;
  mark_dirty(false);  // the new size is metadata the next commit makes durable
  return true;
}

void AckJournal::note_span(std::optional<Day> oldest, std::optional<Day> newest) {
  if (oldest && (!oldest_ || *oldest < *oldest_)) oldest_ = oldest;
  if (newest && (!newest_ || *newest > *newest_)) newest_ = newest;
}

void AckJournal::mark_dirty(bool dir) {
  appended_.fetch_add(1, std::memory_order_relaxed);
  // Only the first append after a commit wakes the committer: one futex call per window.
  if (dir || (!dirty_.load(std::memory_order_relaxed) && !dirty_.exchange(true))) {
    std::lock_guard lock(wake_mutex_);
    dirty_ = true;
    dir_dirty_ = dir_dirty_ || dir;
    wake_.notify_one();
  }
}

std::string AckJournal::read_bytes() const {
  std::string bytes;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return bytes;
    throw StateError("cannot open journal '" + path_.string() + "': " + errno_text());
  }
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = errno_text();
      ::close(fd);
      throw StateError("cannot read journal '" + path_.string() + "': " + why);
    }
    if (n == 0) break;
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

AckJournal::Opened AckJournal::open(std::optional<Day> checkpoint,
                                    std::optional<Day> restate_from) {
  checkpoint_ = checkpoint;
  restate_from_ = restate_from;
  const std::string bytes = read_bytes();
  auto decoded = decode_journal(bytes);
  Opened opened;
  opened.tail = decoded.tail;
  opened.problem = std::move(decoded.problem);
  if (decoded.tail != JournalTail::clean) {
    // Up to the last byte that is not zero: the preallocated zeros after it are not data.
    const std::size_t end = bytes.find_last_not_of('\0') + 1;
    opened.ignored_bytes = end > decoded.valid_bytes ? end - decoded.valid_bytes : 0;
  }
  const std::size_t total = decoded.records.size();
  opened.records = keep_open(std::move(decoded.records), checkpoint, restate_from);
  opened.dropped_records = total - opened.records.size();
  if (bytes.empty()) return opened;  // created with the first acknowledgement
  if (opened.dropped_records == 0 && decoded.tail == JournalTail::clean) {
    // Appending goes on where the records end (the rest is the file's preallocated zeros).
    const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw StateError("cannot open journal '" + path_.string() + "': " + errno_text());
    char* map = nullptr;
    const std::size_t capacity = capacity_for(bytes.size());
    if (auto why = map_file(fd, capacity, map); !why.empty()) {
      ::close(fd);
      throw StateError(why);
    }
    set_file(fd, map, capacity);
    size_ = decoded.valid_bytes;
    for (const auto& r : opened.records)
      note_span(r.period, r.period);
    return opened;
  }
  // Old periods, a torn or corrupt tail, a file not trusted: the file keeps the valid records
  // worth keeping only, so appends never follow bytes a reader would stop at.
  replace_file(opened.records);
  return opened;
}

void AckJournal::replace_file(const std::vector<JournalRecord>& records) {
  oldest_.reset();
  newest_.reset();
  if (records.empty()) {
    set_file(-1, nullptr, 0);
    size_ = 0;
    // A removal lost to a power cut brings back records of delivered events: harmless.
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      throw StateError("cannot remove journal '" + path_.string() + "': " + errno_text());
    }
    return;
  }
  const std::string text = encode_journal(records);
  const std::string temp = path_.string() + ".tmp";
  const int out = ::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) throw StateError("cannot create '" + temp + "': " + errno_text());
  const std::size_t capacity = capacity_for(text.size());
  char* map = nullptr;
  std::string why = write_all(out, text) ? map_file(out, capacity, map) : errno_text();
  if (why.empty() && ::fsync(out) != 0) why = errno_text();
  if (why.empty() && ::rename(temp.c_str(), path_.c_str()) != 0) why = errno_text();
  if (!why.empty()) {
    if (map != nullptr) ::munmap(map, capacity);
    ::close(out);
    ::unlink(temp.c_str());
    throw StateError("cannot rewrite journal '" + path_.string() + "': " + why);
  }
  set_file(out, map, capacity);
  size_ = text.size();
  for (const auto& r : records)
    note_span(r.period, r.period);
  // The rename reaches the disk with the next commit (a lost rename leaves the old file, whose
  // records are a superset: harmless).
  mark_dirty(true);
}

bool AckJournal::create() {
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    note_write_failure("cannot create '" + path_.string() + "': " + errno_text());
    return false;
  }
  char* map = nullptr;
  if (auto why = map_file(fd, kInitialCapacity, map); !why.empty()) {
    ::close(fd);
    ::unlink(path_.c_str());
    note_write_failure(why);
    return false;
  }
  const std::string header = journal_header();
  std::copy(header.begin(), header.end(), map);
  set_file(fd, map, kInitialCapacity);
  size_ = header.size();
  return true;
}

void AckJournal::note_write_failure(const std::string& why) {
  if (failure_logged_) return;
  failure_logged_ = true;
  log::error("acknowledgements not journalled; a crash would deliver them again (nothing is lost)",
             {{"error", why}});
}

bool AckJournal::append(RecordBuilder& records) {
  const std::string_view bytes = records.bytes();
  if (bytes.empty()) return true;
  const bool created = fd_ < 0;
  if (created && !create()) return false;
  if (size_ + bytes.size() > capacity_ && !grow(size_ + bytes.size())) return false;
  // Into the page cache through the mapping: no system call, and a killed process loses none of
  // it. The first record's length goes last, so a reader never sees half of this append.
  char* at = map_ + size_;
  std::memcpy(at + 4, bytes.data() + 4, bytes.size() - 4);
  publish_length(at, bytes);
  size_ += bytes.size();
  failure_logged_ = false;
  note_span(records.oldest(), records.newest());
  mark_dirty(created);
  if (options_.records_written) options_.records_written(records.records());
  return true;
}

std::vector<JournalRecord> AckJournal::read() const {
  if (map_ == nullptr) return {};
  return decode_journal(std::string_view(map_, size_)).records;
}

void AckJournal::retain(std::optional<Day> checkpoint) {
  // Appends keep following restate_from_ (from open(): at worst older than today's window,
  // which only keeps a few more records until the next checkpoint).
  checkpoint_ = checkpoint;
  const std::optional<Day> restate_from;  // state.json's digests cover the restated days now
  if (fd_ < 0) return;
  try {
    // Periods only ever get closed from the oldest on: the span says whether anything goes.
    if (oldest_ && worth_keeping(*oldest_, checkpoint, restate_from)) return;
    if (newest_ && !worth_keeping(*newest_, checkpoint, restate_from)) {
      replace_file({});
      return;
    }
    replace_file(keep_open(read(), checkpoint, restate_from));
  } catch (const StateError& e) {
    // Records left behind name delivered events: skipping them again is right, only the file
    // stays larger until the next checkpoint.
    log::error("journal not truncated", {{"error", e.what()}});
  }
}

void AckJournal::sync() {
  std::unique_lock lock(wake_mutex_);
  const std::uint64_t target = appended_.load();
  flush_now_ = true;
  wake_.notify_one();
  synced_.wait(lock, [&] { return completed_ >= target; });
}

void AckJournal::commit_once(bool data, bool dir) {
  std::lock_guard lock(fd_mutex_);
  if (data && fd_ >= 0) {
    // Writes back the pages the mapping dirtied (Linux keeps one page cache for both).
    const auto started = std::chrono::steady_clock::now();
    const int rc = ::fdatasync(fd_);
    const int error = errno;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (rc != 0 && !sync_failure_logged_) {
      sync_failure_logged_ = true;
      log::error("journal fdatasync failed; acknowledgements may not survive a power loss",
                 {{"error", std::strerror(error)}});
    }
    if (options_.synced) options_.synced(seconds);
  }
  if (dir) fsync_dir(dir_);
}

void AckJournal::commit_loop() {
  std::unique_lock lock(wake_mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || flush_now_ || dir_dirty_ || dirty_.load(); });
    // Group commit: the acknowledgements of the next window share one fdatasync.
    if (!stopping_ && !flush_now_) {
      wake_.wait_for(lock, options_.commit_window, [&] { return stopping_ || flush_now_; });
    }
    flush_now_ = false;
    const bool dir = std::exchange(dir_dirty_, false);
    const bool data = dirty_.exchange(false);
    const std::uint64_t target = appended_.load();
    lock.unlock();
    if (data || dir) commit_once(data, dir);
    lock.lock();
    completed_ = std::max(completed_, target);
    synced_.notify_all();
    if (stopping_ && !dir_dirty_ && !dirty_.load()) return;
  }
}

}  // namespace sab::state
