#include "events/mapping.hpp"

#include <doctest/doctest.h>

#include "events/encoding.hpp"
#include "events/uuid.hpp"

using namespace sab;
using namespace std::chrono;

namespace {

common::CostGroup spec_group(std::string amortized = "0.0009189721") {
  common::CostGroup g;
  g.keys = {"CloudWatch Events"};
  g.metrics = {{"AmortizedCost", amortized, "USD"},
               {"BlendedCost", "0.0009189721", "USD"},
               {"NetAmortizedCost", "0.0009189721", "USD"},
               {"NetUnblendedCost", "0.0009189721", "USD"},
               {"UnblendedCost", "0.0009189721", "USD"}};
  return g;
}

common::CostPeriod period_of(int y, unsigned m, unsigned d, bool estimated) {
  common::CostPeriod p;
  p.start = sys_days{year{y} / m / d};
  p.end = p.start + days{1};
  p.estimated = estimated;
  return p;
}

const std::vector<config::GroupBy> kService{{"DIMENSION", "SERVICE"}};
const auto kNow = sys_days{2023y / 1 / 16} + hours{2} + minutes{0} + seconds{7} + milliseconds{250};

}  // namespace

TEST_CASE("mapping: the SPEC §3 example, field for field") {
  const auto event = events::make_event(period_of(2023, 1, 15, true), spec_group(), kService,
                                        config::Granularity::daily, kNow);
  CHECK(event.source == "cloud.aws.billing");
  CHECK(event.type == "aws.service.daily");
  CHECK(event.datacontenttype == "application/json");
  CHECK(event.time == "2023-01-16T02:00:07Z");
  CHECK(event.subject == "2023-01-15/CloudWatch Events");
  CHECK(event.estimated);
  CHECK(event.data == R"({"date":"2023-01-15","service":"CloudWatch Events",)"
                      R"("amortizedCost":{"amount":"0.0009189721","unit":"USD"},)"
                      R"("blendedCost":{"amount":"0.0009189721","unit":"USD"},)"
                      R"("netAmortizedCost":{"amount":"0.0009189721","unit":"USD"},)"
                      R"("netUnblendedCost":{"amount":"0.0009189721","unit":"USD"},)"
                      R"("unblendedCost":{"amount":"0.0009189721","unit":"USD"}})");
  // UUIDv5 of the length-prefixed name, as Python's uuid.uuid5 computes it; the amounts' digest is
  // the same name without the estimated flag (the id of earlier versions).
  CHECK(event.id == "fddd8e13-a7e0-5950-9b5e-8ee79e0b4bc7");
  CHECK(events::to_string(event.amounts) == "c4895bc0-0610-502c-b729-ec54ca20f7bd");

  std::string json;
  events::append_structured_json(json, event);
  CHECK(json == R"({"specversion":"1.0","id":"fddd8e13-a7e0-5950-9b5e-8ee79e0b4bc7",)"
                R"("source":"cloud.aws.billing","type":"aws.service.daily",)"
                R"("datacontenttype":"application/json","time":"2023-01-16T02:00:07Z",)"
                R"("subject":"2023-01-15/CloudWatch Events","estimated":true,"data":)" +
                    event.data + "}");
}

TEST_CASE("mapping: ids are stable for the same data and change with any amount") {
  const auto p = period_of(2023, 1, 15, true);
  const auto a = events::make_event(p, spec_group(), kService, config::Granularity::daily, kNow);
  const auto b =
      events::make_event(p, spec_group(), kService, config::Granularity::daily, kNow + hours{30});
  CHECK(a.id == b.id);  // time is not part of the id
  CHECK(a.time != b.time);
  // A period turning final is new to a sink; its amounts' digest stays.
  auto est = p;
  est.estimated = false;
  const auto final_event =
      events::make_event(est, spec_group(), kService, config::Granularity::daily, kNow);
  CHECK(final_event.id != a.id);
  CHECK(final_event.id == "f380493c-adcc-5d48-b677-7ffe3c19144b");
  CHECK(final_event.amounts == a.amounts);

  CHECK(
      events::make_event(p, spec_group("0.0009189722"), kService, config::Granularity::daily, kNow)
          .id != a.id);
  auto g = spec_group();
  g.metrics[4].amount = "0.001";
  CHECK(events::make_event(p, g, kService, config::Granularity::daily, kNow).id != a.id);
  g = spec_group();
  g.metrics[0].unit = "EUR";
  CHECK(events::make_event(p, g, kService, config::Granularity::daily, kNow).id != a.id);
  // Another day, another service: other ids.
  CHECK(events::make_event(period_of(2023, 1, 16, true), spec_group(), kService,
                           config::Granularity::daily, kNow)
            .id != a.id);
  g = spec_group();
  g.keys = {"CloudWatch"};
  CHECK(events::make_event(p, g, kService, config::Granularity::daily, kNow).id != a.id);
  // The API's metric order does not matter.
  g = spec_group();
  std::swap(g.metrics[0], g.metrics[3]);
  CHECK(events::make_event(p, g, kService, config::Granularity::daily, kNow).id == a.id);
  // Field boundaries are unambiguous: keys {"a/b"} vs {"a", "b"}.
  const std::vector<config::GroupBy> two{{"DIMENSION", "SERVICE"}, {"DIMENSION", "REGION"}};
  common::CostGroup g1{{"a/b", ""}, {{"UnblendedCost", "1", "USD"}}};
  common::CostGroup g2{{"a", "b/"}, {{"UnblendedCost", "1", "USD"}}};
  const auto e1 = events::make_event(p, g1, two, config::Granularity::daily, kNow);
  const auto e2 = events::make_event(p, g2, two, config::Granularity::daily, kNow);
  CHECK(e1.subject == e2.subject);
  CHECK(e1.id != e2.id);
}

TEST_CASE("mapping: two dimensions, camelCase keys, type from the first") {
  const std::vector<config::GroupBy> gb{{"DIMENSION", "LINKED_ACCOUNT"},
                                        {"DIMENSION", "USAGE_TYPE"}};
  common::CostGroup g{{"123456789012", "USE1-TimedStorage-ByteHrs"},
                      {{"UnblendedCost", "12.5", "USD"}, {"UsageQuantity", "3e-7", "N/A"}}};
  const auto e =
      events::make_event(period_of(2024, 2, 29, false), g, gb, config::Granularity::daily, kNow);
  CHECK(e.type == "aws.linked_account.daily");
  CHECK(e.subject == "2024-02-29/123456789012/USE1-TimedStorage-ByteHrs");
  CHECK_FALSE(e.estimated);
  CHECK(
      e.data ==
      R"({"date":"2024-02-29","linkedAccount":"123456789012","usageType":"USE1-TimedStorage-ByteHrs",)"
      R"("unblendedCost":{"amount":"12.5","unit":"USD"},"usageQuantity":{"amount":"3e-7","unit":"N/A"}})");
}

TEST_CASE("mapping: the linked account's name, when AWS sent one, is data but not identity") {
  const std::vector<config::GroupBy> gb{{"DIMENSION", "LINKED_ACCOUNT"}};
  common::CostGroup g{{"123456789012"}, {{"UnblendedCost", "12.5", "USD"}}};
  const auto p = period_of(2024, 2, 29, false);
  const auto unnamed = events::make_event(p, g, gb, config::Granularity::daily, kNow);
  g.account_name = "Payer";
  const auto named = events::make_event(p, g, gb, config::Granularity::daily, kNow);
  CHECK(named.data ==
        R"({"date":"2024-02-29","linkedAccount":"123456789012","linkedAccountName":"Payer",)"
        R"("unblendedCost":{"amount":"12.5","unit":"USD"}})");
  CHECK(unnamed.data.find("linkedAccountName") == std::string::npos);
  CHECK(named.id == unnamed.id);
}

TEST_CASE("mapping: TAG and COST_CATEGORY keys are split at the first '$'") {
  const std::vector<config::GroupBy> gb{{"TAG", "Environment"}, {"COST_CATEGORY", "Team"}};
  common::CostGroup g{{"Environment$prod$blue", "Team$"}, {{"BlendedCost", "0", "USD"}}};
  const auto e =
      events::make_event(period_of(2023, 3, 1, false), g, gb, config::Granularity::monthly, kNow);
  CHECK(e.type == "aws.tag.monthly");
  CHECK(e.subject == "2023-03-01/Environment$prod$blue/Team$");
  CHECK(e.data ==
        R"({"date":"2023-03-01","tag":{"key":"Environment","value":"prod$blue"},)"
        R"("costCategory":{"key":"Team","value":""},"blendedCost":{"amount":"0","unit":"USD"}})");
  // A key without '$': the configured name is the key.
  common::CostGroup odd{{"prod", "x"}, {}};
  const auto e2 =
      events::make_event(period_of(2023, 3, 1, false), odd, gb, config::Granularity::monthly, kNow);
  CHECK(
      e2.data ==
      R"({"date":"2023-03-01","tag":{"key":"Environment","value":"prod"},"costCategory":{"key":"Team","value":"x"}})");
  // Two tags: the second data key gets a suffix, JSON keys stay unique.
  const std::vector<config::GroupBy> tags{{"TAG", "a"}, {"TAG", "b"}};
  common::CostGroup t{{"a$1", "b$2"}, {}};
  CHECK(events::make_event(period_of(2023, 3, 1, false), t, tags, config::Granularity::daily, kNow)
            .data ==
        R"({"date":"2023-03-01","tag":{"key":"a","value":"1"},"tag2":{"key":"b","value":"2"}})");
  CHECK(events::event_type({{"COST_CATEGORY", "Team"}}, config::Granularity::daily) ==
        "aws.cost_category.daily");
}

TEST_CASE("mapping: names that need JSON escaping stay exact") {
  common::CostGroup g{{"Amazon \"Quoted\" \\ Service/é 100%\r\n\t"},
                      {{"UnblendedCost", "1", "USD"}}};
  const auto e = events::make_event(period_of(2023, 1, 15, true), g, kService,
                                    config::Granularity::daily, kNow);
  CHECK(e.subject == "2023-01-15/Amazon \"Quoted\" \\ Service/é 100%\r\n\t");
  CHECK(
      e.data ==
      "{\"date\":\"2023-01-15\",\"service\":\"Amazon \\\"Quoted\\\" \\\\ Service/é 100%\\r\\n\\t\","
      "\"unblendedCost\":{\"amount\":\"1\",\"unit\":\"USD\"}}");
}

TEST_CASE("mapping: monthly periods, totals without group-by, helpers") {
  common::CostPeriod month = period_of(2023, 2, 1, false);
  month.end = sys_days{2023y / 3 / 1};
  month.total = {{"UnblendedCost", "99.1", "USD"}};
  auto all = events::make_events(month, {}, config::Granularity::monthly, kNow);
  REQUIRE(all.size() == 1);
  CHECK(all[0].type == "aws.total.monthly");
  CHECK(all[0].subject == "2023-02-01");
  CHECK(all[0].data == R"({"date":"2023-02-01","unblendedCost":{"amount":"99.1","unit":"USD"}})");
  // With group-by but no groups (a day without costs): no events.
  CHECK(events::make_events(month, kService, config::Granularity::monthly, kNow).empty());
  month.groups = {spec_group(), spec_group()};
  month.groups[1].keys = {"AWS Lambda"};
  all = events::make_events(month, kService, config::Granularity::monthly, kNow);
  REQUIRE(all.size() == 2);
  CHECK(all[1].subject == "2023-02-01/AWS Lambda");
  CHECK(all[0].type == "aws.service.monthly");
  // More keys than group-bys: no crash, distinct keys.
  common::CostGroup extra{{"a", "b"}, {}};
  CHECK(events::make_event(month, extra, kService, config::Granularity::daily, kNow).data ==
        R"({"date":"2023-02-01","service":"a","key2":"b"})");

  CHECK(events::camel_case("SERVICE") == "service");
  CHECK(events::camel_case("LINKED_ACCOUNT") == "linkedAccount");
  CHECK(events::camel_case("INSTANCE_TYPE_FAMILY") == "instanceTypeFamily");
  CHECK(events::camel_case("AZ") == "az");
  CHECK(events::camel_case("NetAmortizedCost") == "netAmortizedCost");
  CHECK(events::camel_case("NormalizedUsageAmount") == "normalizedUsageAmount");
  CHECK(events::camel_case("") == "");
  CHECK(events::rfc3339(sys_days{1970y / 1 / 1}) == "1970-01-01T00:00:00Z");
  CHECK(events::rfc3339(sys_days{2023y / 12 / 31} + hours{23} + minutes{59} + seconds{59} +
                        milliseconds{999}) == "2023-12-31T23:59:59Z");
}
