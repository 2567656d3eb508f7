#pragma once

// SPEC §3: one Cost Explorer group of one period -> one CloudEvent, with a deterministic id so
// a sink can drop duplicates. Pure.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/cost.hpp"
#include "config/config.hpp"
#include "events/event.hpp"

namespace sab::events {

// camelCase of an API name: "LINKED_ACCOUNT" -> "linkedAccount", "SERVICE" -> "service",
// "AmortizedCost" -> "amortizedCost", "NetUnblendedCost" -> "netUnblendedCost".
std::string camel_case(std::string_view name);

// The data key of one group-by: DIMENSION -> camelCase of the dimension, TAG -> "tag",
// COST_CATEGORY -> "costCategory".
std::string group_data_key(const config::GroupBy& group_by);

// "aws.<first group key, lower case>.<granularity>": DIMENSION SERVICE -> "aws.service.daily",
// DIMENSION LINKED_ACCOUNT -> "aws.linked_account.daily", TAG -> "aws.tag.daily",
// COST_CATEGORY -> "aws.cost_category.monthly". Without group-by: "aws.total.<granularity>".
std::string event_type(const std::vector<config::GroupBy>& group_by,
                       config::Granularity granularity);

// RFC 3339 UTC with second precision: "2023-01-16T02:00:00Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

// The event of one group:
// - data: {"date": <period start>, one key per group-by (see group_data_key; a TAG or
//   COST_CATEGORY key "name$value" becomes {"key": name, "value": value}; when two group-bys give
//   the same data key the second one is suffixed with "2"), then one {"amount","unit"} object per
//   metric (camelCase of the metric name) in the order given}. Amounts and units are verbatim.
//   For MONTHLY the date is the first day of the month (the period start).
// - subject: "<date>/<group keys as the API gives them, joined by '/'>".
// - id: UUIDv5 (kEventNamespace) over a length-prefixed name of source, type, date, group keys,
//   every metric (name, amount, unit, sorted by name) and the estimated flag: same data, same id;
//   any amount changed, or the period turned final, a new id.
// - amounts: the UUIDv5 of the same name without the estimated flag (the id of earlier versions),
//   the digest restatement compares.
// - time: `now` (when the event was made); estimated: the period's Estimated flag.
Event make_event(const common::CostPeriod& period, const common::CostGroup& group,
                 const std::vector<config::GroupBy>& group_by, config::Granularity granularity,
                 std::chrono::system_clock::time_point now);

// Every event of a period: one per group, or one for the totals when the period has no groups.
std::vector<Event> make_events(const common::CostPeriod& period,
                               const std::vector<config::GroupBy>& group_by,
                               config::Granularity granularity,
                               std::chrono::system_clock::time_point now);

}  // namespace sab::events
