#include "schedule/schedule.hpp"

#include <date/date.h>
#include <doctest/doctest.h>

#include <sstream>

using namespace sab::schedule;
using namespace std::chrono;

namespace {

// "2024-03-31T01:00:00Z" -> instant.
Instant at(const std::string& text) {
  std::istringstream in(text);
  date::sys_seconds t;
  in >> date::parse("%FT%TZ", t);
  REQUIRE_MESSAGE(!in.fail(), "bad test time " << text);
  return t;
}

std::string show(Instant t) {
  return date::format("%FT%TZ", t);
}

Day ymd(const std::string& text) {
  std::istringstream in(text);
  date::sys_days d;
  in >> date::parse("%F", d);
  REQUIRE(!in.fail());
  return d;
}

DayRange range(Day a, Day b) {
  return DayRange{a, b};
}

sab::config::Config daily(unsigned catch_up = 7, unsigned restate = 0) {
  sab::config::Config c;
  c.catch_up_days = catch_up;
  c.restate_days = restate;
  return c;
}

}  // namespace

TEST_CASE("schedule: UTC") {
  CHECK(show(next_fire(at("2024-01-15T01:00:00Z"), 2, "UTC")) == "2024-01-15T02:00:00Z");
  CHECK(show(next_fire(at("2024-01-15T02:00:00Z"), 2, "UTC")) == "2024-01-16T02:00:00Z");
  CHECK(show(next_fire(at("2024-01-15T23:59:59Z"), 0, "UTC")) == "2024-01-16T00:00:00Z");
  CHECK(show(next_fire(at("2024-12-31T23:00:00Z"), 23, "UTC")) == "2025-01-01T23:00:00Z");
}

TEST_CASE("schedule: a zone ahead of UTC and one behind") {
  // Tokyo is UTC+9: 02:00 JST is 17:00 UTC of the day before.
  CHECK(show(next_fire(at("2024-01-15T10:00:00Z"), 2, "Asia/Tokyo")) == "2024-01-15T17:00:00Z");
  CHECK(show(next_fire(at("2024-01-15T17:00:00Z"), 2, "Asia/Tokyo")) == "2024-01-16T17:00:00Z");
  // Los Angeles is UTC-8 in January.
  CHECK(show(next_fire(at("2024-01-15T09:00:00Z"), 2, "America/Los_Angeles")) ==
        "2024-01-15T10:00:00Z");
  CHECK(show(next_fire(at("2024-01-15T11:00:00Z"), 2, "America/Los_Angeles")) ==
        "2024-01-16T10:00:00Z");
}

TEST_CASE("schedule: DST spring forward skips the hour; it fires at the next valid instant") {
  // Berlin, 2024-03-31: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
  CHECK(show(next_fire(at("2024-03-30T12:00:00Z"), 2, "Europe/Berlin")) == "2024-03-31T01:00:00Z");
  CHECK(show(next_fire(at("2024-03-31T01:00:00Z"), 2, "Europe/Berlin")) == "2024-04-01T00:00:00Z");
  CHECK(show(next_fire(at("2024-03-30T12:00:00Z"), 1, "Europe/Berlin")) == "2024-03-31T00:00:00Z");
  CHECK(show(next_fire(at("2024-03-30T12:00:00Z"), 3, "Europe/Berlin")) == "2024-03-31T01:00:00Z");
  // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
  CHECK(show(next_fire(at("2024-03-10T00:00:00Z"), 2, "America/New_York")) ==
        "2024-03-10T07:00:00Z");
  CHECK(show(next_fire(at("2024-03-10T07:00:00Z"), 2, "America/New_York")) ==
        "2024-03-11T06:00:00Z");
}

TEST_CASE("schedule: DST fall back repeats the hour; it fires once") {
  // Berlin, 2024-10-27: 03:00 CEST falls back to 02:00 CET at 01:00 UTC; 02:00 happens twice.
  const Instant first = next_fire(at("2024-10-26T12:00:00Z"), 2, "Europe/Berlin");
  CHECK(show(first) == "2024-10-27T00:00:00Z");
  CHECK(show(next_fire(first, 2, "Europe/Berlin")) == "2024-10-28T01:00:00Z");
  // Restarted between the two 02:00s: the repeat does not fire again.
  CHECK(show(next_fire(at("2024-10-27T00:30:00Z"), 2, "Europe/Berlin")) == "2024-10-28T01:00:00Z");
  // New York, 2024-11-03: 01:00 happens at 05:00 UTC (EDT) and 06:00 UTC (EST).
  const Instant ny = next_fire(at("2024-11-02T12:00:00Z"), 1, "America/New_York");
  CHECK(show(ny) == "2024-11-03T05:00:00Z");
  CHECK(show(next_fire(ny, 1, "America/New_York")) == "2024-11-04T06:00:00Z");
  CHECK(show(next_fire(at("2024-11-03T00:00:00Z"), 2, "America/New_York")) ==
        "2024-11-03T07:00:00Z");
}

TEST_CASE("schedule: an unknown zone is an error") {
  CHECK_THROWS_AS(next_fire(at("2024-01-01T00:00:00Z"), 2, "Nowhere/City"), std::runtime_error);
}

TEST_CASE("plan: the first start pulls yesterday") {
  auto plan = plan_pull(at("2024-01-15T02:00:00Z"), std::nullopt, daily());
  REQUIRE(plan.fresh);
  CHECK(*plan.fresh == range(ymd("2024-01-14"), ymd("2024-01-14")));
  CHECK_FALSE(plan.restate);
  CHECK(plan.period()->end_exclusive() == ymd("2024-01-15"));
}

TEST_CASE("plan: up to date means nothing to pull") {
  auto plan = plan_pull(at("2024-01-15T02:00:00Z"), ymd("2024-01-14"), daily());
  CHECK_FALSE(plan.fresh);
  CHECK_FALSE(plan.period());
}

TEST_CASE("plan: missed days are caught up as one period, bounded by catch_up_days") {
  auto plan = plan_pull(at("2024-01-15T02:00:00Z"), ymd("2024-01-11"), daily());
  CHECK(*plan.fresh == range(ymd("2024-01-12"), ymd("2024-01-14")));
  CHECK(plan.skipped_days == 0);
  auto bounded = plan_pull(at("2024-01-20T02:00:00Z"), ymd("2024-01-01"), daily(7));
  CHECK(*bounded.fresh == range(ymd("2024-01-12"), ymd("2024-01-19")));
  CHECK(bounded.fresh->count() == 8);  // yesterday plus 7 missed days
  CHECK(bounded.skipped_days == 10);   // 01-02 .. 01-11
  auto none = plan_pull(at("2024-01-20T02:00:00Z"), ymd("2024-01-01"), daily(0));
  CHECK(*none.fresh == range(ymd("2024-01-19"), ymd("2024-01-19")));
  CHECK(none.skipped_days == 17);
}

TEST_CASE("plan: month ends and a leap day") {
  auto plan = plan_pull(at("2024-03-01T05:00:00Z"), ymd("2024-02-27"), daily());
  CHECK(*plan.fresh == range(ymd("2024-02-28"), ymd("2024-02-29")));
  auto year_end = plan_pull(at("2025-01-01T00:00:00Z"), ymd("2024-12-30"), daily());
  CHECK(*year_end.fresh == range(ymd("2024-12-31"), ymd("2024-12-31")));
  CHECK(year_end.fresh->end_exclusive() == ymd("2025-01-01"));
}

TEST_CASE("plan: restatement re-pulls the last N delivered days with the fresh ones") {
  auto plan = plan_pull(at("2024-01-15T02:00:00Z"), ymd("2024-01-13"), daily(7, 3));
  CHECK(*plan.fresh == range(ymd("2024-01-14"), ymd("2024-01-14")));
  CHECK(*plan.restate == range(ymd("2024-01-12"), ymd("2024-01-13")));
  CHECK(*plan.period() == range(ymd("2024-01-12"), ymd("2024-01-14")));
  auto only_restate = plan_pull(at("2024-01-15T02:00:00Z"), ymd("2024-01-14"), daily(7, 2));
  CHECK_FALSE(only_restate.fresh);
  CHECK(*only_restate.restate == range(ymd("2024-01-13"), ymd("2024-01-14")));
}

TEST_CASE("plan: MONTHLY pulls complete months") {
  auto c = daily(7);
  c.granularity = sab::config::Granularity::monthly;
  auto first = plan_pull(at("2024-03-01T02:00:00Z"), std::nullopt, c);
  CHECK(*first.fresh == range(ymd("2024-02-01"), ymd("2024-02-29")));
  auto mid = plan_pull(at("2024-03-17T02:00:00Z"), ymd("2024-02-29"), c);
  CHECK_FALSE(mid.fresh);
  auto next = plan_pull(at("2024-04-01T02:00:00Z"), ymd("2024-02-29"), c);
  CHECK(*next.fresh == range(ymd("2024-03-01"), ymd("2024-03-31")));
  c.catch_up_days = 70;
  auto catch_up = plan_pull(at("2024-05-02T02:00:00Z"), ymd("2024-01-31"), c);
  CHECK(*catch_up.fresh == range(ymd("2024-02-01"), ymd("2024-04-30")));
}

TEST_CASE("plan: restatement never reaches past the catch-up window") {
  // A long outage: 01-08 .. 01-11 are skipped; restating 20 days must not pull them again.
  auto outage = plan_pull(at("2024-01-20T02:00:00Z"), ymd("2024-01-07"), daily(7, 20));
  CHECK(*outage.fresh == range(ymd("2024-01-12"), ymd("2024-01-19")));
  CHECK(outage.skipped_days == 4);
  CHECK_FALSE(outage.restate);
  CHECK(*outage.period() == range(ymd("2024-01-12"), ymd("2024-01-19")));
  // Within the window the restated days are the delivered ones of the window, next to the fresh.
  auto inside = plan_pull(at("2024-01-20T02:00:00Z"), ymd("2024-01-15"), daily(7, 20));
  CHECK(*inside.restate == range(ymd("2024-01-12"), ymd("2024-01-15")));
  CHECK(*inside.fresh == range(ymd("2024-01-16"), ymd("2024-01-19")));
  CHECK(*inside.period() == range(ymd("2024-01-12"), ymd("2024-01-19")));
  // Whatever the checkpoint, the period never holds a skipped day.
  for (int back = 1; back < 40; ++back) {
    const Day checkpoint = ymd("2024-01-19") - days{back};
    for (unsigned restate : {1u, 3u, 10u, 30u}) {
      auto plan = plan_pull(at("2024-01-20T02:00:00Z"), checkpoint, daily(7, restate));
      REQUIRE(plan.period());
      CHECK(plan.period()->first >= ymd("2024-01-19") - days{7});
      if (plan.skipped_days > 0) CHECK(plan.period()->first == plan.fresh->first);
    }
  }
}

TEST_CASE("plan: MONTHLY catch-up adds only months whose days all lie within catch_up_days") {
  auto c = daily(7);
  c.granularity = sab::config::Granularity::monthly;
  // The default 7 days: the last complete month only; February and March are skipped.
  auto seven = plan_pull(at("2024-05-02T02:00:00Z"), ymd("2024-01-31"), c);
  CHECK(*seven.fresh == range(ymd("2024-04-01"), ymd("2024-04-30")));
  CHECK(seven.skipped_days == 29 + 31);
  c.catch_up_days = 30;  // March has 31 days
  CHECK(*plan_pull(at("2024-05-02T02:00:00Z"), ymd("2024-01-31"), c).fresh ==
        range(ymd("2024-04-01"), ymd("2024-04-30")));
  c.catch_up_days = 31;
  CHECK(*plan_pull(at("2024-05-02T02:00:00Z"), ymd("2024-01-31"), c).fresh ==
        range(ymd("2024-03-01"), ymd("2024-04-30")));
  c.catch_up_days = 60;  // March 31 + February 29
  CHECK(*plan_pull(at("2024-05-02T02:00:00Z"), ymd("2024-01-31"), c).fresh ==
        range(ymd("2024-02-01"), ymd("2024-04-30")));
  // One month missed by the default: the previous month is pulled, nothing older.
  c.catch_up_days = 7;
  auto one = plan_pull(at("2024-04-01T02:00:00Z"), ymd("2024-02-29"), c);
  CHECK(*one.fresh == range(ymd("2024-03-01"), ymd("2024-03-31")));
  CHECK(one.skipped_days == 0);
}

TEST_CASE("retry delay doubles and is capped") {
  CHECK(retry_delay(1) == minutes(1));
  CHECK(retry_delay(2) == minutes(2));
  CHECK(retry_delay(3) == minutes(4));
  CHECK(retry_delay(20) == hours(1));
}

TEST_CASE("once: DAILY days default to yesterday and must be complete") {
  const auto g = sab::config::Granularity::daily;
  auto d = once_days(at("2024-01-15T02:00:00Z"), std::nullopt, std::nullopt, g);
  CHECK(*d.days == range(ymd("2024-01-14"), ymd("2024-01-14")));
  auto r = once_days(at("2024-01-15T02:00:00Z"), ymd("2024-01-01"), ymd("2024-01-14"), g);
  CHECK(*r.days == range(ymd("2024-01-01"), ymd("2024-01-14")));
  auto today = once_days(at("2024-01-15T02:00:00Z"), ymd("2024-01-15"), ymd("2024-01-15"), g);
  CHECK_FALSE(today.days);
  CHECK(today.error.find("2024-01-14") != std::string::npos);
}

TEST_CASE("once: MONTHLY pulls the last complete month, or whole months only") {
  const auto g = sab::config::Granularity::monthly;
  auto d = once_days(at("2024-03-17T02:00:00Z"), std::nullopt, std::nullopt, g);
  CHECK(*d.days == range(ymd("2024-02-01"), ymd("2024-02-29")));
  auto whole = once_days(at("2024-03-17T02:00:00Z"), ymd("2023-11-01"), ymd("2024-01-31"), g);
  CHECK(*whole.days == range(ymd("2023-11-01"), ymd("2024-01-31")));
  // One day (--date) or a range inside months: exit 2 naming the months' bounds.
  auto day = once_days(at("2024-03-17T02:00:00Z"), ymd("2024-01-15"), ymd("2024-01-15"), g);
  CHECK_FALSE(day.days);
  CHECK(day.error.find("2024-01-01 .. 2024-01-31") != std::string::npos);
  auto part = once_days(at("2024-03-17T02:00:00Z"), ymd("2023-12-02"), ymd("2024-02-28"), g);
  CHECK_FALSE(part.days);
  CHECK(part.error.find("2023-12-01 .. 2024-02-29") != std::string::npos);
  // The current month is not complete.
  auto now = once_days(at("2024-03-17T02:00:00Z"), ymd("2024-03-01"), ymd("2024-03-31"), g);
  CHECK_FALSE(now.days);
  CHECK(now.error.find("2024-02-01 .. 2024-02-29") != std::string::npos);
}

TEST_CASE("plan: followed estimated days share the fresh day's request period") {
  auto c = daily();
  c.follow_estimates_days = 35;
  // 01-10 and 01-12 are still estimated; 01-11 is final and rides along, ignored.
  const std::set<Day> estimated{ymd("2024-01-10"), ymd("2024-01-12")};
  auto plan = plan_pull(at("2024-01-15T02:00:00Z"), ymd("2024-01-13"), c, estimated);
  CHECK(*plan.fresh == range(ymd("2024-01-14"), ymd("2024-01-14")));
  CHECK(plan.follow == estimated);
  CHECK(*plan.period() == range(ymd("2024-01-10"), ymd("2024-01-14")));
  CHECK_FALSE(plan.extra());
  CHECK(*follow_from(at("2024-01-15T02:00:00Z"), c) == ymd("2023-12-11"));

  // Older than follow_estimates_days: no longer followed.
  c.follow_estimates_days = 4;
  auto window = plan_pull(at("2024-01-15T02:00:00Z"), ymd("2024-01-13"), c, estimated);
  CHECK(window.follow == std::set<Day>{ymd("2024-01-12")});
  CHECK(*window.period() == range(ymd("2024-01-12"), ymd("2024-01-14")));

  // Off: nothing followed, whatever the state says.
  c.follow_estimates_days = 0;
  auto off = plan_pull(at("2024-01-15T02:00:00Z"), ymd("2024-01-13"), c, estimated);
  CHECK(off.follow.empty());
  CHECK(*off.period() == range(ymd("2024-01-14"), ymd("2024-01-14")));
  CHECK_FALSE(follow_from(at("2024-01-15T02:00:00Z"), c));
}

TEST_CASE("plan: after an outage longer than catch_up_days, followed days are one more period") {
  auto c = daily(7);
  c.follow_estimates_days = 35;
  const std::set<Day> estimated{ymd("2024-01-02"), ymd("2024-01-03")};
  auto plan = plan_pull(at("2024-01-20T02:00:00Z"), ymd("2024-01-03"), c, estimated);
  CHECK(*plan.fresh == range(ymd("2024-01-12"), ymd("2024-01-19")));
  CHECK(*plan.period() == range(ymd("2024-01-12"), ymd("2024-01-19")));
  CHECK(*plan.extra() == range(ymd("2024-01-02"), ymd("2024-01-03")));
  // Up to date (a retry): the followed days alone.
  auto retry = plan_pull(at("2024-01-04T05:00:00Z"), ymd("2024-01-03"), c, estimated);
  CHECK_FALSE(retry.fresh);
  CHECK(*retry.period() == range(ymd("2024-01-02"), ymd("2024-01-03")));
  CHECK_FALSE(retry.extra());
}

TEST_CASE("plan: MONTHLY follows an estimated month while it ends within the window") {
  auto c = daily();
  c.granularity = sab::config::Granularity::monthly;
  c.follow_estimates_days = 10;
  const std::set<Day> estimated{ymd("2024-01-01")};
  // February 5th: January ended 5 days before yesterday; it is pulled again, alone.
  auto plan = plan_pull(at("2024-02-05T02:00:00Z"), ymd("2024-01-31"), c, estimated);
  CHECK_FALSE(plan.fresh);
  CHECK(plan.follow == estimated);
  CHECK(*plan.period() == range(ymd("2024-01-01"), ymd("2024-01-31")));
  CHECK(*follow_from(at("2024-02-05T02:00:00Z"), c) == ymd("2024-01-01"));
  // February 20th: January ended more than 10 days ago.
  auto late = plan_pull(at("2024-02-20T02:00:00Z"), ymd("2024-01-31"), c, estimated);
  CHECK(late.follow.empty());
  CHECK_FALSE(late.period());
}
