#pragma once

// Schedule arithmetic: the daily firing in a time zone, which days a pull covers (catch-up,
// restatement, MONTHLY) and --once date selection. Pure functions of an injected now.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sab::schedule {

using Clock = std::chrono::system_clock;
using Instant = std::chrono::sys_seconds;
using Day = std::chrono::sys_days;

// The first instant strictly after `now` at which the wall clock of `zone` shows pull_hour:00.
// A pull_hour skipped by a DST gap fires at the end of the gap (the next valid instant); a
// pull_hour repeated by a DST fall-back fires once, at its first occurrence.
// Throws std::runtime_error for an unknown zone (config validation rejects those first).
Instant next_fire(Instant now, int pull_hour, std::string_view zone);

// The last complete UTC day at `now`: yesterday.
Day last_complete_day(Instant now);

// A span of billing days, both ends inclusive.
struct DayRange {
  Day first;
  Day last;
  bool operator==(const DayRange&) const = default;
  // The Cost Explorer TimePeriod: End is exclusive.
  Day end_exclusive() const { return last + std::chrono::days{1}; }
  long count() const { return (last - first).count() + 1; }
};

struct PullPlan {
  // Days not yet delivered (after the checkpoint), to be emitted whole. Empty when up to date.
  std::optional<DayRange> fresh;
  // Days already delivered that are re-pulled for restatement (only changed groups are emitted).
  std::optional<DayRange> restate;
  // Missed days older than catch_up_days allows: skipped, to be reported.
  long skipped_days = 0;
  // Delivered periods (their starts) AWS still marked Estimated, re-pulled until they turn final
  // (follow_estimates_days), and the days from the first to the end of the last.
  std::set<Day> follow;
  std::optional<DayRange> follow_range;
  bool follow_apart = false;  // skipped days lie between them and the others

  // The request period: restated and fresh days together, and the followed periods when they
  // are contiguous with those (the delivered days between them ride along, ignored).
  std::optional<DayRange> period() const;
  // A second request period: followed periods that are not contiguous with the first (after an
  // outage longer than catch_up_days), never one request per period.
  std::optional<DayRange> extra() const;
};

// What a firing at `now` pulls, given the checkpoint (the last day delivered whole; none on the
// first start). DAILY: the complete days after the checkpoint, at most catch_up_days missed days
// before yesterday; the first start pulls yesterday. MONTHLY: the last complete month (a month is
// complete once its last day is) and missed months before it whose days all lie within
// catch_up_days before its first day (so the default 7 adds none, 31 adds one); the checkpoint is
// then the last day of the month delivered. Restated days (restate_days) are the delivered days
// of the last N, never older than the catch-up window, so the one request period never holds a
// skipped day.
// `estimated`: the delivered periods AWS still marked Estimated (state); those from follow_from
// on, up to the checkpoint, are followed.
PullPlan plan_pull(Instant now, std::optional<Day> checkpoint, const config::Config& config,
                   const std::set<Day>& estimated = {});

// The oldest period start still followed at `now`: follow_estimates_days days back from the last
// complete day (MONTHLY: the month holding that day); none when following is off.
std::optional<Day> follow_from(Instant now, const config::Config& config);

// The days a `--once` run pulls at `now`: [first, last] as given (--date is first == last), or
// by default the last complete day (DAILY) or the last complete month (MONTHLY). MONTHLY takes
// whole calendar months only. `error` names the problem (and the bounds that would do) when the
// selection is not complete yet or not whole months; then `days` is empty.
struct OnceDays {
  std::optional<DayRange> days;
  std::string error;
};
OnceDays once_days(Instant now, std::optional<Day> first, std::optional<Day> last,
                   config::Granularity granularity);

// Backoff before retrying a failed pull: 1m, 2m, 4m, ... capped at 1h.
std::chrono::seconds retry_delay(int failures);

}  // namespace sab::schedule
