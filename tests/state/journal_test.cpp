// The journal's pure part: record encoding, torn and corrupt tails, which records stay, which ids
// are skipped. No I/O here (the file shell is in journal_file_test.cpp).
#include "state/journal.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "app/cli.hpp"

using namespace sab::state;

namespace {

Day ymd(const char* s) {
  return *sab::app::parse_date(s);
}

IdDigest digest_of(int n) {
  return id_digest("event-" + std::to_string(n));
}

std::vector<JournalRecord> sample() {
  return {{ymd("2024-03-01"), {digest_of(1)}},
          {ymd("2024-03-01"), {digest_of(2), digest_of(3)}},
          {ymd("2024-03-02"), {digest_of(4)}},
          {ymd("2024-03-03"), {digest_of(5), digest_of(6), digest_of(7)}}};
}

}  // namespace

TEST_CASE("journal: CRC32C is the Castagnoli checksum") {
  CHECK(crc32c("123456789") == 0xE3069283U);
  CHECK(crc32c("") == 0U);
  // Incremental: the checksum of a concatenation from the checksum of its first part.
  CHECK(crc32c("6789", crc32c("12345")) == 0xE3069283U);
}

TEST_CASE("journal: an event id's digest is its UUID's bytes, else a hash") {
  const auto d = id_digest("0123abcd-4567-89ef-0123-456789ABCDEF");
  const IdDigest expected = {0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x89, 0xef,
                             0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  CHECK(d == expected);
  CHECK(id_digest("0123abcd-4567-89ef-0123-456789abcdef") == expected);
  // Not a UUID: stable and distinct.
  CHECK(id_digest("not-a-uuid") == id_digest("not-a-uuid"));
  CHECK(id_digest("not-a-uuid") != id_digest("not-a-uuid2"));
  CHECK(id_digest("0123abcd-4567-89ef-0123-456789abcdeg") != expected);
}

TEST_CASE("journal: records round trip; the builder starts a record per period") {
  const auto records = sample();
  const std::string bytes = encode_journal(records);
  CHECK(bytes.substr(0, 4) == "SABJ");
  const auto decoded = decode_journal(bytes);
  CHECK(decoded.tail == JournalTail::clean);
  CHECK(decoded.problem.empty());
  CHECK(decoded.valid_bytes == bytes.size());
  CHECK(decoded.records == records);

  RecordBuilder builder;
  CHECK(builder.bytes().empty());
  builder.add(ymd("2024-03-01"), digest_of(1));
  builder.add(ymd("2024-03-01"), digest_of(2));
  builder.add(ymd("2024-03-02"), digest_of(3));
  builder.add(ymd("2024-02-28"), digest_of(4));
  const std::string appended = journal_header() + std::string(builder.bytes());
  CHECK(builder.records() == 3);
  CHECK(builder.ids() == 4);
  CHECK(builder.oldest() == ymd("2024-02-28"));
  CHECK(builder.newest() == ymd("2024-03-02"));
  const auto again = decode_journal(appended);
  REQUIRE(again.records.size() == 3);
  CHECK(again.records[0] == JournalRecord{ymd("2024-03-01"), {digest_of(1), digest_of(2)}});
  CHECK(again.records[1] == JournalRecord{ymd("2024-03-02"), {digest_of(3)}});
  CHECK(again.records[2] == JournalRecord{ymd("2024-02-28"), {digest_of(4)}});
  // A record: 8 bytes of length and checksum, 4 of period, 16 per id.
  CHECK(appended.size() == kJournalHeaderBytes + 3 * 12 + 4 * 16);
  builder.clear();
  CHECK(builder.bytes().empty());
  CHECK(builder.records() == 0);
  CHECK(!builder.oldest());
}

TEST_CASE("journal: a tail torn at every byte of the last record is ignored from there") {
  const auto records = sample();
  const std::string whole = encode_journal(records);
  const std::string before = encode_journal({records.begin(), records.end() - 1});
  const std::vector<JournalRecord> kept(records.begin(), records.end() - 1);
  for (std::size_t cut = before.size(); cut < whole.size(); ++cut) {
    CAPTURE(cut);
    const auto decoded = decode_journal(std::string_view(whole).substr(0, cut));
    CHECK(decoded.records == kept);
    CHECK(decoded.valid_bytes == before.size());
    CHECK(decoded.tail == (cut == before.size() ? JournalTail::clean : JournalTail::torn));
  }
  // Zeros after the records: the file's preallocated space, where the next append goes.
  for (std::size_t zeros : {1, 3, 4, 40, 4096}) {
    CAPTURE(zeros);
    const auto padded = decode_journal(before + std::string(zeros, '\0'));
    CHECK(padded.records == kept);
    CHECK(padded.valid_bytes == before.size());
    CHECK(padded.tail == JournalTail::clean);
  }
  // The last record written but for its length (written last): torn, ignored.
  std::string unpublished = whole;
  for (std::size_t i = before.size(); i < before.size() + 4; ++i)
    unpublished[i] = '\0';
  const auto torn = decode_journal(unpublished + std::string(100, '\0'));
  CHECK(torn.records == kept);
  CHECK(torn.valid_bytes == before.size());
  CHECK(torn.tail == JournalTail::torn);
  CHECK(torn.problem.find("no length yet") != std::string::npos);
}

TEST_CASE("journal: a corrupt checksum or length stops the reading, earlier records stay") {
  const auto records = sample();
  const std::string whole = encode_journal(records);
  const std::string first_two = encode_journal({records.begin(), records.begin() + 2});
  const std::vector<JournalRecord> kept(records.begin(), records.begin() + 2);
  // Every byte of the third record, flipped in turn: never trusted, the records before it stay.
  const std::string first_three = encode_journal({records.begin(), records.begin() + 3});
  for (std::size_t at = first_two.size(); at < first_three.size(); ++at) {
    CAPTURE(at);
    std::string bad = whole;
    bad[at] = static_cast<char>(bad[at] ^ 0x5A);
    const auto decoded = decode_journal(bad);
    CHECK(decoded.records == kept);
    CHECK(decoded.valid_bytes == first_two.size());
    CHECK(decoded.tail != JournalTail::clean);
    CHECK(!decoded.problem.empty());
  }
  std::string bad_crc = whole;
  bad_crc[first_two.size() + 4] = static_cast<char>(bad_crc[first_two.size() + 4] ^ 1);
  const auto decoded = decode_journal(bad_crc);
  CHECK(decoded.tail == JournalTail::corrupt);
  CHECK(decoded.problem.find("checksum") != std::string::npos);
  CHECK(decoded.problem.find("at byte " + std::to_string(first_two.size())) != std::string::npos);
}

TEST_CASE("journal: a wrong version, a foreign file, an empty file") {
  const std::string whole = encode_journal(sample());
  std::string v2 = whole;
  v2[4] = 2;
  const auto version = decode_journal(v2);
  CHECK(version.tail == JournalTail::bad_header);
  CHECK(version.records.empty());
  CHECK(version.valid_bytes == 0);
  CHECK(version.problem.find("version 2") != std::string::npos);

  const auto foreign = decode_journal("{\"checkpoint\":\"2024-03-01\"}");
  CHECK(foreign.tail == JournalTail::bad_header);
  CHECK(foreign.records.empty());

  const auto empty = decode_journal("");
  CHECK(empty.tail == JournalTail::clean);
  CHECK(empty.records.empty());
  CHECK(empty.valid_bytes == 0);

  const auto header_only = decode_journal(journal_header());
  CHECK(header_only.tail == JournalTail::clean);
  CHECK(header_only.valid_bytes == kJournalHeaderBytes);

  for (std::size_t cut = 1; cut < kJournalHeaderBytes; ++cut) {
    CAPTURE(cut);
    const auto torn = decode_journal(journal_header().substr(0, cut));
    CHECK(torn.tail == JournalTail::torn);
    CHECK(torn.valid_bytes == 0);
  }
}

TEST_CASE("journal: only the open periods are kept") {
  const auto records = sample();  // 03-01 (two records), 03-02, 03-03
  CHECK(keep_open(records, std::nullopt, std::nullopt) == records);
  auto kept = keep_open(records, ymd("2024-03-01"), std::nullopt);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].period == ymd("2024-03-02"));
  CHECK(kept[1].period == ymd("2024-03-03"));
  CHECK(keep_open(records, ymd("2024-03-03"), std::nullopt).empty());
  CHECK(keep_open(records, ymd("2024-03-31"), std::nullopt).empty());
  // Restatement: days from restate_from on stay, even at or before the checkpoint.
  kept = keep_open(records, ymd("2024-03-03"), ymd("2024-03-02"));
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].period == ymd("2024-03-02"));
  CHECK(worth_keeping(ymd("2024-03-04"), ymd("2024-03-03"), std::nullopt));
  CHECK(!worth_keeping(ymd("2024-03-03"), ymd("2024-03-03"), std::nullopt));
  CHECK(worth_keeping(ymd("2024-03-03"), ymd("2024-03-03"), ymd("2024-03-01")));
  CHECK(!worth_keeping(ymd("2024-02-29"), ymd("2024-03-03"), ymd("2024-03-01")));
}

TEST_CASE("journal: the skip set holds (period, id) pairs") {
  const SkipSet skip(sample());
  CHECK(skip.size() == 7);
  CHECK(skip.contains(ymd("2024-03-01"), digest_of(3)));
  CHECK(skip.contains(ymd("2024-03-03"), digest_of(7)));
  // The same id in another period is another event.
  CHECK(!skip.contains(ymd("2024-03-02"), digest_of(3)));
  CHECK(!skip.contains(ymd("2024-03-01"), digest_of(8)));
  CHECK(SkipSet{}.empty());
  // Duplicated records (a restart journals nothing twice, but a reader must not care).
  auto twice = sample();
  twice.push_back(twice.front());
  CHECK(SkipSet(twice).size() == 7);
}
