#include "state/insights.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>

#include "common/dates.hpp"

namespace sab::state {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int kVersion = 1;

json::value day_value(const std::optional<Day>& day) {
  return day ? json::value(common::format_date(*day)) : json::value(nullptr);
}

std::optional<Day> optional_day(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) throw StateError("\"" + std::string(key) + "\" must be a date string");
  auto day = common::parse_date(v->as_string());
  if (!day) throw StateError("\"" + std::string(key) + "\": not a date");
  return day;
}

SentAnomaly parse_sent(std::string_view id, const json::value& value) {
  const std::string what = "anomaly '" + std::string(id) + "'";
  if (!value.is_object()) throw StateError(what + ": not an object");
  const auto& obj = value.as_object();
  const auto* event = obj.if_contains("event");
  if (event == nullptr || !event->is_string()) throw StateError(what + ": no \"event\" id");
  const auto seen = optional_day(obj, "seen");
  if (!seen) throw StateError(what + ": no \"seen\" date");
  return SentAnomaly{std::string(event->as_string()), *seen};
}

}  // namespace

Day anomaly_query_start(const InsightsState& state, Day today) {
  const Day from = state.anomalies_checked ? std::min(*state.anomalies_checked, today) : today;
  return from - kAnomalyLookback;
}

void prune_anomalies(InsightsState& state, Day oldest) {
  std::erase_if(state.anomalies,
                [oldest](const auto& entry) { return entry.second.seen < oldest; });
}

std::string serialize_insights(const InsightsState& state) {
  json::object root;
  root["version"] = kVersion;
  root["forecast_sent"] = day_value(state.forecast_sent);
  root["anomalies_checked"] = day_value(state.anomalies_checked);
  json::object sent;
  for (const auto& [id, a] : state.anomalies) {
    sent[id] = json::object{{"event", a.event_id}, {"seen", common::format_date(a.seen)}};
  }
  root["anomalies"] = std::move(sent);
  return json::serialize(root) + "\n";
}

InsightsState parse_insights(std::string_view text) {
  json::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) throw StateError("not valid JSON: " + ec.message());
  if (!root.is_object()) throw StateError("not a JSON object");
  const auto& obj = root.as_object();
  const auto* version = obj.if_contains("version");
  if (version == nullptr || !version->is_int64() || version->as_int64() != kVersion) {
    throw StateError("unsupported or missing \"version\" (this build reads version " +
                     std::to_string(kVersion) + ")");
  }
  InsightsState state;
  state.forecast_sent = optional_day(obj, "forecast_sent");
  state.anomalies_checked = optional_day(obj, "anomalies_checked");
  if (const auto* sent = obj.if_contains("anomalies"); sent != nullptr && !sent->is_null()) {
    if (!sent->is_object()) throw StateError("\"anomalies\" must be an object");
    for (const auto& [id, value] : sent->as_object())
      state.anomalies.emplace(std::string(id), parse_sent(id, value));
  }
  return state;
}

std::optional<InsightsState> load_insights(const fs::path& dir) {
  const fs::path path = dir / kInsightsFile;
  const auto text = read_if_exists(path, "");
  if (!text) return std::nullopt;
  try {
    return parse_insights(*text);
  } catch (const StateError& e) {
    throw StateError("'" + path.string() + "' is corrupt (" + e.what() +
                     "); fix it, or move it away to start the forecast and anomaly checks over");
  }
}

void save_insights(const fs::path& dir, const InsightsState& state) {
  write_atomically(dir, kInsightsFile, serialize_insights(state));
}

}  // namespace sab::state
