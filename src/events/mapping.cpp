#include "events/mapping.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iterator>

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

void append_2digits(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

void append_ymd(std::string& out, const std::chrono::year_month_day& ymd) {
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    char buf[16];
    const int n = std::snprintf(buf, sizeof buf, "%04d", year);
    out.append(buf, static_cast<std::size_t>(n));
  } else {
    append_2digits(out, static_cast<unsigned>(year) / 100);
    append_2digits(out, static_cast<unsigned>(year) % 100);
  }
  out.push_back('-');
  append_2digits(out, static_cast<unsigned>(ymd.month()));
  out.push_back('-');
  append_2digits(out, static_cast<unsigned>(ymd.day()));
}

// The estimated flag as the id's last length-prefixed field.
constexpr std::string_view kEstimatedField = "9:estimated";
constexpr std::string_view kFinalField = "5:final";

bool is_split_type(std::string_view type) {
  return type == "TAG" || type == "COST_CATEGORY";
}

std::string_view granularity_name(config::Granularity g) {
  return g == config::Granularity::monthly ? "monthly" : "daily";
}

// What every event of one period shares, computed once per period rather than per event.
class PeriodContext {
 public:
  PeriodContext(const common::CostPeriod& period, const std::vector<config::GroupBy>& group_by,
                config::Granularity granularity, std::chrono::system_clock::time_point now)
      : group_by_(group_by), estimated_(period.estimated) {
    append_ymd(date_, std::chrono::year_month_day{period.start});
    type_ = event_type(group_by, granularity);
    time_ = rfc3339(now);
    data_head_ = "{\"date\":";
    common::append_json_string(data_head_, date_);
    append_id_field(id_head_, kSource);
    append_id_field(id_head_, type_);
    append_id_field(id_head_, date_);
  }

  Event build(const std::vector<std::string>& keys, const std::vector<common::MetricValue>& metrics,
              std::string_view account_name = {}) {
    Event event;
    event.source.assign(kSource);
    event.type = type_;
    event.time = time_;
    event.estimated = estimated_;

    std::size_t subject_size = date_.size();
    for (const auto& key : keys)
      subject_size += 1 + key.size();
    event.subject.reserve(subject_size);
    event.subject = date_;
    for (const auto& key : keys) {
      event.subject.push_back('/');
      event.subject += key;
    }

    ensure_keys(keys.size());
    std::string& data = event.data;
    data.reserve(data_head_.size() + 2 * subject_size + 64 * metrics.size() + 16);
    data += data_head_;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const KeySlot& slot = key_slots_[i];
      data += slot.prefix;
      const std::string& key = keys[i];
      if (slot.split) {
        const auto dollar = key.find('$');
        const std::string_view name = dollar == std::string::npos
                                          ? std::string_view(slot.default_name)
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
    if (!account_name.empty()) {
      // A label, not part of the id: a renamed account is the same cost.
      data += ",\"linkedAccountName\":";
      common::append_json_string(data, account_name);
    }
    for (const auto& m : metrics) {
      data += metric_prefix(m.name);
      common::append_json_string(data, m.amount);
      data += ",\"unit\":";
      common::append_json_string(data, m.unit);
      data.push_back('}');
    }
    data.push_back('}');

    // The id: length-prefixed fields, metrics sorted by name so that the API's order does not
    // matter.
    sorted_.clear();
    for (const auto& m : metrics)
      sorted_.push_back(&m);
    std::sort(sorted_.begin(), sorted_.end(),
              [](const auto* a, const auto* b) { return a->name < b->name; });
    name_ = id_head_;
    append_id_field(name_, std::to_string(keys.size()));
    for (const auto& key : keys)
      append_id_field(name_, key);
    append_id_field(name_, std::to_string(sorted_.size()));
    for (const auto* m : sorted_) {
      append_id_field(name_, m->name);
      append_id_field(name_, m->amount);
      append_id_field(name_, m->unit);
    }
    // The estimated flag last: one pass gives both the amounts' digest and the id.
    const auto ids =
        uuid_v5_pair(kEventNamespace, name_, estimated_ ? kEstimatedField : kFinalField);
    event.amounts = ids.plain;
    event.id_bytes = ids.extended;
    event.id = to_string(ids.extended);
    return event;
  }

 private:
  struct KeySlot {
    std::string prefix;        // ,"<data key>":
    bool split = false;        // TAG or COST_CATEGORY: "name$value"
    std::string default_name;  // the group-by key, when the value has no '$'
  };

  void ensure_keys(std::size_t count) {
    while (key_slots_.size() < count) {
      const std::size_t i = key_slots_.size();
      const config::GroupBy gb = i < group_by_.size()
                                     ? group_by_[i]
                                     : config::GroupBy{"DIMENSION", "KEY" + std::to_string(i + 1)};
      std::string data_key = group_data_key(gb);
      // A data key used by an earlier group-by gets the position as a suffix.
      for (std::size_t k = 0; k < i; ++k) {
        if (used_[k] == data_key) {
          data_key += std::to_string(i + 1);
          break;
        }
      }
      used_.push_back(data_key);
      KeySlot slot;
      slot.prefix.push_back(',');
      common::append_json_string(slot.prefix, data_key);
      slot.prefix.push_back(':');
      slot.split = is_split_type(gb.type);
      slot.default_name = gb.key;
      key_slots_.push_back(std::move(slot));
    }
  }

  // ,"<camelCase name>":{"amount":  — the handful of metric names repeat in every group.
  const std::string& metric_prefix(const std::string& name) {
    for (const auto& [known, prefix] : metric_prefixes_) {
      if (known == name) return prefix;
    }
    std::string prefix = ",";
    common::append_json_string(prefix, camel_case(name));
    prefix += ":{\"amount\":";
    return metric_prefixes_.emplace_back(name, std::move(prefix)).second;
  }

  const std::vector<config::GroupBy>& group_by_;
  bool estimated_;
  std::string date_, type_, time_, data_head_, id_head_;
  std::vector<KeySlot> key_slots_;
  std::vector<std::string> used_;
  std::vector<std::pair<std::string, std::string>> metric_prefixes_;
  std::vector<const common::MetricValue*> sorted_;
  std::string name_;  // the id's name, reused between events
};

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
  PeriodContext context(period, group_by, granularity, now);
  return context.build(group.keys, group.metrics, group.account_name);
}

std::vector<Event> make_events(const common::CostPeriod& period,
                               const std::vector<config::GroupBy>& group_by,
                               config::Granularity granularity,
                               std::chrono::system_clock::time_point now) {
  std::vector<Event> out;
  PeriodContext context(period, group_by, granularity, now);
  if (period.groups.empty()) {
    if (group_by.empty() && !period.total.empty()) {
      out.push_back(context.build({}, period.total));
    }
    return out;
  }
  out.reserve(period.groups.size());
  for (const auto& group : period.groups)
    out.push_back(context.build(group.keys, group.metrics, group.account_name));
  return out;
}

}  // namespace sab::events
