#include "schedule/schedule.hpp"

#include <date/tz.h>

#include <algorithm>
#include <stdexcept>

#include "common/dates.hpp"

namespace sab::schedule {
namespace {

using std::chrono::days;

Day first_of_month(Day d) {
  std::chrono::year_month_day ymd{d};
  return Day{ymd.year() / ymd.month() / std::chrono::day{1}};
}

Day add_months(Day first_of, int months) {
  std::chrono::year_month_day ymd{first_of};
  return Day{(ymd.year() / ymd.month() + std::chrono::months{months}) / std::chrono::day{1}};
}

}  // namespace

Instant next_fire(Instant now, int pull_hour, std::string_view zone_name) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(zone_name);
  } catch (const std::exception& e) {
    throw std::runtime_error("unknown time zone '" + std::string(zone_name) + "'");
  }
  const auto local_now = zone->to_local(now);
  const auto local_day = std::chrono::floor<days>(local_now);
  // Today's firing may still be ahead; else tomorrow's; a third day covers odd zone changes.
  for (int offset = 0; offset < 3; ++offset) {
    const date::local_seconds wanted{(local_day + days{offset}).time_since_epoch() +
                                     std::chrono::hours{pull_hour}};
    const auto info = zone->get_info(wanted);
    Instant instant;
    switch (info.result) {
      case date::local_info::unique:
      case date::local_info::ambiguous:
        // Ambiguous: the first of the two (earlier offset), so a repeated hour fires once.
        instant = Instant{wanted.time_since_epoch() - info.first.offset};
        break;
      case date::local_info::nonexistent:
        // In a gap: the instant the gap ends, the first valid wall-clock time after it.
        instant = std::chrono::time_point_cast<std::chrono::seconds>(info.first.end);
        break;
    }
    if (instant > now) return instant;
  }
  throw std::runtime_error("no firing found within three days");
}

Day last_complete_day(Instant now) {
  return std::chrono::floor<days>(now) - days{1};
}

namespace {

// Restated and fresh days: plan_pull keeps restated days adjacent to the fresh ones, so one
// period holds no skipped day.
std::optional<DayRange> base_period(const PullPlan& plan) {
  if (plan.fresh && plan.restate) return DayRange{plan.restate->first, plan.fresh->last};
  if (plan.fresh) return plan.fresh;
  return plan.restate;
}

// The followed periods of `estimated`: from follow_from up to the checkpoint.
void plan_follow(PullPlan& plan, Instant now, std::optional<Day> checkpoint,
                 const config::Config& config, const std::set<Day>& estimated) {
  const auto from = follow_from(now, config);
  if (!from || !checkpoint) return;
  for (auto it = estimated.lower_bound(*from); it != estimated.end() && *it <= *checkpoint; ++it)
    plan.follow.insert(*it);
  if (plan.follow.empty()) return;
  Day last = *plan.follow.rbegin();
  if (config.granularity == config::Granularity::monthly) last = add_months(last, 1) - days{1};
  plan.follow_range = DayRange{*plan.follow.begin(), last};
  // The days between the followed periods and the others ride along when they were all
  // delivered; skipped days (an outage longer than catch_up_days) never do.
  const auto base = base_period(plan);
  plan.follow_apart = base && base->first > *checkpoint + days{1};
}

}  // namespace

std::optional<DayRange> PullPlan::period() const {
  const auto base = base_period(*this);
  if (!base) return follow_range;
  if (!follow_range || follow_apart) return base;
  return DayRange{std::min(base->first, follow_range->first),
                  std::max(base->last, follow_range->last)};
}

std::optional<DayRange> PullPlan::extra() const {
  if (!base_period(*this) || !follow_range || !follow_apart) return std::nullopt;
  return follow_range;
}

std::optional<Day> follow_from(Instant now, const config::Config& config) {
  if (config.follow_estimates_days == 0) return std::nullopt;
  const Day oldest = last_complete_day(now) - days{config.follow_estimates_days - 1};
  return config.granularity == config::Granularity::monthly ? first_of_month(oldest) : oldest;
}

namespace {

// Fresh and restated days.
PullPlan plan_days(Instant now, std::optional<Day> checkpoint, const config::Config& config) {
  PullPlan plan;
  const Day yesterday = last_complete_day(now);
  if (config.granularity == config::Granularity::daily) {
    const Day oldest_allowed = yesterday - days{config.catch_up_days};
    if (!checkpoint) {
      plan.fresh = DayRange{yesterday, yesterday};
    } else if (*checkpoint < yesterday) {
      Day first = *checkpoint + days{1};
      if (first < oldest_allowed) {
        plan.skipped_days = (oldest_allowed - first).count();
        first = oldest_allowed;
      }
      plan.fresh = DayRange{first, yesterday};
    }
    if (config.restate_days > 0 && checkpoint) {
      // Never past the catch-up window: a restated day older than it would stretch the one
      // request period over days the plan skipped, and those would go out whole.
      const Day restate_last = std::min(*checkpoint, yesterday);
      const Day restate_first = std::max(yesterday - days{config.restate_days - 1}, oldest_allowed);
      if (restate_first <= restate_last) plan.restate = DayRange{restate_first, restate_last};
    }
    return plan;
  }

  // MONTHLY: the last complete month is the one before the current UTC month.
  const Day this_month = first_of_month(std::chrono::floor<days>(now));
  const Day last_month = add_months(this_month, -1);
  const Day last_month_end = this_month - days{1};
  if (!checkpoint) {
    plan.fresh = DayRange{last_month, last_month_end};
  } else if (*checkpoint < last_month_end) {
    Day first = add_months(first_of_month(*checkpoint), 1);
    // A checkpoint inside a month (not its last day) means that month was not delivered whole.
    if (*checkpoint + days{1} != first) first = first_of_month(*checkpoint);
    // Missed months before the last complete one are caught up only when every one of their
    // days lies within catch_up_days before it (the default 7 catches up no extra month; 31 one).
    const Day bound = last_month - days{config.catch_up_days};
    Day oldest_allowed = first_of_month(bound);
    if (oldest_allowed < bound) oldest_allowed = add_months(oldest_allowed, 1);
    if (first < oldest_allowed) {
      plan.skipped_days = (oldest_allowed - first).count();
      first = oldest_allowed;
    }
    plan.fresh = DayRange{first, last_month_end};
  }
  if (config.restate_days > 0 && checkpoint && *checkpoint >= last_month) {
    plan.restate = DayRange{last_month, std::min(*checkpoint, last_month_end)};
  }
  return plan;
}

}  // namespace

PullPlan plan_pull(Instant now, std::optional<Day> checkpoint, const config::Config& config,
                   const std::set<Day>& estimated) {
  PullPlan plan = plan_days(now, checkpoint, config);
  plan_follow(plan, now, checkpoint, config, estimated);
  return plan;
}

OnceDays once_days(Instant now, std::optional<Day> first, std::optional<Day> last,
                   config::Granularity granularity) {
  OnceDays out;
  const Day yesterday = last_complete_day(now);
  if (granularity == config::Granularity::daily) {
    const DayRange days = first && last ? DayRange{*first, *last} : DayRange{yesterday, yesterday};
    if (days.last > yesterday) {
      out.error = common::format_date(days.last) +
                  " is not a complete UTC day yet; the last complete day is " +
                  common::format_date(yesterday);
    } else {
      out.days = days;
    }
    return out;
  }
  const Day this_month = first_of_month(std::chrono::floor<days>(now));
  if (!first || !last) {
    out.days = DayRange{add_months(this_month, -1), this_month - days{1}};
    return out;
  }
  const Day month_first = first_of_month(*first);
  const Day month_last = add_months(first_of_month(*last), 1) - days{1};
  if (*first != month_first || *last != month_last) {
    out.error = "granularity MONTHLY pulls whole calendar months: " + common::format_date(*first) +
                " .. " + common::format_date(*last) + " is not; the months it touches are " +
                common::format_date(month_first) + " .. " + common::format_date(month_last) +
                " (--from " + common::format_date(month_first) + " --to " +
                common::format_date(month_last) + ")";
  } else if (*last >= this_month) {
    out.error = "the month ending " + common::format_date(*last) +
                " is not complete yet; the last complete month is " +
                common::format_date(add_months(this_month, -1)) + " .. " +
                common::format_date(this_month - days{1});
  } else {
    out.days = DayRange{*first, *last};
  }
  return out;
}

std::chrono::seconds retry_delay(int failures) {
  const int exponent = std::clamp(failures - 1, 0, 6);
  return std::min(std::chrono::seconds{60 << exponent}, std::chrono::seconds{3600});
}

}  // namespace sab::schedule
