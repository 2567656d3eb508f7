#include "events/mapping.hpp"

#include <algorithm>
#include <cstdio>

#include "common/json.hpp"
#include "events/uuid.hpp"

namespace sab::events {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string lower_case(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = lower(c);
  return out;
}

std::string iso_date(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// Appends "<length>:<bytes>" so that no two different field lists give the same name.
void append_field(std::string& name, std::string_view field) {
  name += std::to_string(field.size());
  name.push_back(':');
  name.append(field);
}

bool is_split_type(std::string_view type) {
  return type == "TAG" || type == "COST_CATEGORY";
}

void append_metric(std::string& data, const common::MetricValue& m) {
  data.push_back(',');
  common::append_json_string(data, camel_case(m.name));
  data += ":{\"amount\":";
  common::append_json_string(data, m.amount);
  data += ",\"unit\":";
  common::append_json_string(data, m.unit);
  data.push_back('}');
}

std::string_view granularity_name(config::Granularity g) {
  return g == config::Granularity::monthly ? "monthly" : "daily";
}

Event build(const common::CostPeriod& period, const std::vector<std::string>& keys,
            const std::vector<common::MetricValue>& metrics,
            const std::vector<config::GroupBy>& group_by, config::Granularity granularity,
            std::chrono::system_clock::time_point now) {
  Event event;
  const std::string date = iso_date(period.start);
  event.source = std::string(kSource);
  event.type = event_type(group_by, granularity);
  event.time = rfc3339(now);
  event.estimated = period.estimated;

  event.subject = date;
  for (const auto& key : keys) {
    event.subject.push_back('/');
    event.subject += key;
  }

  std::string& data = event.data;
  data.reserve(64 + 64 * metrics.size());
  data += "{\"date\":";
  common::append_json_string(data, date);
  std::vector<std::string> used;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    config::GroupBy gb = i < group_by.size()
                             ? group_by[i]
                             : config::GroupBy{"DIMENSION", "KEY" + std::to_string(i + 1)};
    std::string data_key = group_data_key(gb);
    if (std::find(used.begin(), used.end(), data_key) != used.end()) {
      data_key += std::to_string(i + 1);
    }
    used.push_back(data_key);
    data.push_back(',');
    common::append_json_string(data, data_key);
    data.push_back(':');
    const std::string& key = keys[i];
    if (is_split_type(gb.type)) {
      const auto dollar = key.find('$');
      const std::string_view name = dollar == std::string::npos
                                        ? std::string_view(gb.key)
                                        : std::string_view(key).substr(0, dollar);
      const std::string_view value = dollar == std::string::npos
                                         ? std::string_view(key)
                                         : std::string_view(key).substr(dollar + 1);
      data += "{\"key\":";
      common::append_json_string(data, name);
      data += ",\"value\":";
      common::append_json_string(data, value);
      data.push_back('}');
    } else {
      common::append_json_string(data, key);
    }
  }
  for (const auto& m : metrics)
    append_metric(data, m);
  data.push_back('}');

  // The id: length-prefixed fields, metrics sorted by name so that the API's order does not matter.
  std::vector<const common::MetricValue*> sorted;
  sorted.reserve(metrics.size());
  for (const auto& m : metrics)
    sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  std::string name;
  name.reserve(128 + 48 * metrics.size());
  append_field(name, event.source);
  append_field(name, event.type);
  append_field(name, date);
  append_field(name, std::to_string(keys.size()));
  for (const auto& key : keys)
    append_field(name, key);
  append_field(name, std::to_string(sorted.size()));
  for (const auto* m : sorted) {
    append_field(name, m->name);
    append_field(name, m->amount);
    append_field(name, m->unit);
  }
  event.id = to_string(uuid_v5(kEventNamespace, name));
  return event;
}

}  // namespace

std::string camel_case(std::string_view name) {
  const bool has_underscore = name.find('_') != std::string_view::npos;
  const bool all_upper =
      std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  std::string out;
  out.reserve(name.size());
  if (has_underscore || all_upper) {
    bool capitalise = false;
    for (char c : name) {
      if (c == '_') {
        capitalise = !out.empty();
        continue;
      }
      out.push_back(capitalise ? upper(c) : lower(c));
      capitalise = false;
    }
    return out;
  }
  out.assign(name);
  if (!out.empty()) out[0] = lower(out[0]);
  return out;
}

std::string group_data_key(const config::GroupBy& group_by) {
  if (group_by.type == "TAG") return "tag";
  if (group_by.type == "COST_CATEGORY") return "costCategory";
  return camel_case(group_by.key);
}

std::string event_type(const std::vector<config::GroupBy>& group_by,
                       config::Granularity granularity) {
  std::string out = "aws.";
  if (group_by.empty()) {
    out += "total";
  } else if (group_by.front().type == "TAG") {
    out += "tag";
  } else if (group_by.front().type == "COST_CATEGORY") {
    out += "cost_category";
  } else {
    out += lower_case(group_by.front().key);
  }
  out.push_back('.');
  out += granularity_name(granularity);
  return out;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const hh_mm_ss hms{secs - day};
  const year_month_day ymd{day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Event make_event(const common::CostPeriod& period, const common::CostGroup& group,
                 const std::vector<config::GroupBy>& group_by, config::Granularity granularity,
                 std::chrono::system_clock::time_point now) {
  return build(period, group.keys, group.metrics, group_by, granularity, now);
}

std::vector<Event> make_events(const common::CostPeriod& period,
                               const std::vector<config::GroupBy>& group_by,
                               config::Granularity granularity,
                               std::chrono::system_clock::time_point now) {
  std::vector<Event> out;
  if (period.groups.empty()) {
    if (group_by.empty() && !period.total.empty()) {
      out.push_back(build(period, {}, period.total, group_by, granularity, now));
    }
    return out;
  }
  out.reserve(period.groups.size());
  for (const auto& group : period.groups) {
    out.push_back(make_event(period, group, group_by, granularity, now));
  }
  return out;
}

}  // namespace sab::events
