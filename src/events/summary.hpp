#pragma once

// SPEC §3 summary events: per billing period, the group count, exact totals per metric and unit
// and the SHA-256 of the group event ids, so a sink can check it holds the whole period. Pure.

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/cost.hpp"
#include "config/config.hpp"
#include "events/decimal.hpp"
#include "events/event.hpp"
#include "events/uuid.hpp"

namespace sab::events {

// What the summary of one period needs, gathered page by page (a period may span pages): 16
// bytes per group, and one running sum per metric and unit.
class PeriodTally {
 public:
  // Every event of a period as make_events made them, before any is filtered out: one per group,
  // or one for the totals when the period has no groups. `as_before[i]`: the sink holds event i
  // under the id an earlier version gave it (its `amounts`), which is the one counted.
  void add_period(const common::CostPeriod& period, const std::vector<Event>& events,
                  const std::vector<bool>& as_before = {});
  // One event id and the amounts its event carries.
  void add(const Uuid& id, const std::vector<common::MetricValue>& metrics);

  std::size_t groups() const { return ids_.size(); }
  bool estimated() const { return estimated_; }
  // Amounts that were not decimal numbers (left out of the totals).
  std::size_t bad_amounts() const { return bad_amounts_; }
  // Hex SHA-256 of the event ids (text form), sorted, joined by '\n'.
  std::string ids_digest() const;
  // {"<metric camelCase>":[{"amount":"…","unit":"…"},…],…}: metrics in the order first seen,
  // units sorted.
  std::string totals_json() const;

 private:
  bool estimated_ = false;
  std::vector<Uuid> ids_;
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, DecimalSum>>>> totals_;
  std::size_t bad_amounts_ = 0;
};

// "aws.billing.summary.daily" / ".monthly".
std::string summary_type(config::Granularity granularity);

// The summary event of the period starting `start`: subject "<date>", extension estimated, data
// {date, groupBy, groups, estimated, totals, eventIds}. Its id (UUIDv5) covers the date, the
// estimated flag, the group count and the ids' digest (which covers every amount): a period that
// changed in any way gets a new one.
Event make_summary(std::chrono::sys_days start, const PeriodTally& tally,
                   const std::vector<config::GroupBy>& group_by, config::Granularity granularity,
                   std::chrono::system_clock::time_point now);

}  // namespace sab::events
