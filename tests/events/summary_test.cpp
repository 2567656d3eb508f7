#include "events/summary.hpp"

#include <doctest/doctest.h>

#include "events/mapping.hpp"

using namespace sab;
using namespace std::chrono;

namespace {

const std::vector<config::GroupBy> kService{{"DIMENSION", "SERVICE"}};
const system_clock::time_point kNow = sys_days{year{2024} / 1 / 16} + hours{2};

common::CostGroup group(std::string service, std::vector<common::MetricValue> metrics) {
  return {{std::move(service)}, std::move(metrics)};
}

// Awkward amounts: tiny, negative, 38 significant digits, two units.
common::CostPeriod awkward(bool estimated) {
  common::CostPeriod p;
  p.start = sys_days{year{2024} / 1 / 15};
  p.end = p.start + days{1};
  p.estimated = estimated;
  p.groups = {
      group("A", {{"UnblendedCost", "1e-10", "USD"}, {"BlendedCost", "0.1", "USD"}}),
      group("B", {{"UnblendedCost", "-0.0000000001", "USD"}, {"BlendedCost", "0.2", "USD"}}),
      group("C", {{"UnblendedCost", "12345678901234567890.123456789012345678", "USD"},
                  {"BlendedCost", "0", "USD"}}),
      group("D", {{"UnblendedCost", "5", "EUR"}, {"BlendedCost", "-7.25", "EUR"}}),
  };
  return p;
}

events::Event summary_of(const common::CostPeriod& p) {
  events::PeriodTally tally;
  tally.add_period(p, events::make_events(p, kService, config::Granularity::daily, kNow));
  return events::make_summary(p.start, tally, kService, config::Granularity::daily, kNow);
}

}  // namespace

TEST_CASE("summary: exact totals per metric and unit, the ids' digest, the estimated flag") {
  const auto p = awkward(true);
  const auto e = summary_of(p);
  CHECK(e.type == "aws.billing.summary.daily");
  CHECK(e.source == "cloud.aws.billing");
  CHECK(e.subject == "2024-01-15");
  CHECK(e.time == "2024-01-16T02:00:00Z");
  CHECK(e.estimated);
  // eventIds: SHA-256 of the four group ids, sorted, joined by '\n' (checked with Python's
  // hashlib and uuid over the same ids).
  CHECK(e.data ==
        R"({"date":"2024-01-15","groupBy":[{"type":"DIMENSION","key":"SERVICE"}],)"
        R"("groups":4,"estimated":true,"totals":{)"
        R"("unblendedCost":[{"amount":"5","unit":"EUR"},)"
        R"({"amount":"12345678901234567890.123456789012345678","unit":"USD"}],)"
        R"("blendedCost":[{"amount":"-7.25","unit":"EUR"},{"amount":"0.3","unit":"USD"}]},)"
        R"("eventIds":"c6406df506ae07ab401b4e917e66073789bc4e4f4b0aa34a004db08b0d1b216e"})");
}

TEST_CASE("summary: a new id whenever the period changes, the same one otherwise") {
  const auto a = summary_of(awkward(true));
  CHECK(summary_of(awkward(true)).id == a.id);
  CHECK(summary_of(awkward(false)).id != a.id);  // turned final
  auto changed = awkward(true);
  changed.groups[3].metrics[0].amount = "5.01";
  CHECK(summary_of(changed).id != a.id);
  auto fewer = awkward(true);
  fewer.groups.pop_back();
  CHECK(summary_of(fewer).id != a.id);
  // The time it was made is not part of it.
  events::PeriodTally tally;
  const auto p = awkward(true);
  tally.add_period(p, events::make_events(p, kService, config::Granularity::daily, kNow));
  CHECK(events::make_summary(p.start, tally, kService, config::Granularity::daily, kNow + hours{30})
            .id == a.id);
}

TEST_CASE("summary: a period without groups, and a period over two pages") {
  common::CostPeriod empty;
  empty.start = sys_days{year{2024} / 2 / 1};
  empty.end = sys_days{year{2024} / 3 / 1};
  const auto e = summary_of(empty);
  CHECK(e.type == "aws.billing.summary.daily");
  CHECK(e.data ==
        R"({"date":"2024-02-01","groupBy":[{"type":"DIMENSION","key":"SERVICE"}],)"
        R"("groups":0,"estimated":false,"totals":{},)"
        R"("eventIds":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})");
  CHECK(events::summary_type(config::Granularity::monthly) == "aws.billing.summary.monthly");

  // A period split over pages sums the same as whole.
  auto whole = awkward(false);
  auto first = whole;
  auto second = whole;
  first.groups.resize(2);
  second.groups.erase(second.groups.begin(), second.groups.begin() + 2);
  events::PeriodTally tally;
  tally.add_period(first, events::make_events(first, kService, config::Granularity::daily, kNow));
  tally.add_period(second, events::make_events(second, kService, config::Granularity::daily, kNow));
  CHECK(events::make_summary(whole.start, tally, kService, config::Granularity::daily, kNow) ==
        summary_of(whole));
}

TEST_CASE("summary: an amount that is not a number is left out and counted") {
  auto p = awkward(false);
  p.groups[0].metrics[0].amount = "n/a";
  events::PeriodTally tally;
  tally.add_period(p, events::make_events(p, kService, config::Granularity::daily, kNow));
  CHECK(tally.bad_amounts() == 1);
  CHECK(tally.totals_json().find(R"({"amount":"12345678901234567889.123456789012345678")") ==
        std::string::npos);
  CHECK(tally.groups() == 4);
}
