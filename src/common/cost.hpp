#pragma once

// The data that flows from the Cost Explorer parser (aws) to the event mapping (events): one
// period's groups with their amounts kept as the exact decimal strings AWS sent.

#include <chrono>
#include <string>
#include <vector>

namespace sab::common {

struct MetricValue {
  std::string name;    // as the API names it, e.g. "UnblendedCost"
  std::string amount;  // verbatim string from the API, never through a float
  std::string unit;    // e.g. "USD"
};

struct CostGroup {
  std::vector<std::string> keys;  // one per group-by, in config order (TAG: "key$value")
  std::vector<MetricValue> metrics;
  // With LINKED_ACCOUNT among the group-bys: the account's name from the page's
  // DimensionValueAttributes (description), when AWS sent one.
  std::string account_name = {};
};

// One ResultsByTime entry: a day (DAILY) or a month (MONTHLY).
struct CostPeriod {
  std::chrono::sys_days start;  // inclusive
  std::chrono::sys_days end;    // exclusive
  bool estimated = false;
  std::vector<CostGroup> groups;
  // When the API answers without groups (no GroupBy), the totals.
  std::vector<MetricValue> total;
};

}  // namespace sab::common
