#pragma once

// What the forecast and anomaly checks remember between runs, in <state_dir>/insights.json
// (apart from state.json): the day the last forecast was delivered, the anomaly watermark and
// which anomaly events were delivered, so none goes out twice.
//
// Versioned JSON, written atomically (temp file 0600, fsync, rename, fsync of the directory).

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "state/state.hpp"

namespace sab::state {

// One anomaly whose event was acknowledged.
struct SentAnomaly {
  std::string event_id;  // covers end date and total impact: a new id means news
  Day seen;              // the last check it was in (what pruning goes by)
  bool operator==(const SentAnomaly&) const = default;
};

struct InsightsState {
  std::optional<Day> forecast_sent;      // the UTC day whose forecast was acknowledged
  std::optional<Day> anomalies_checked;  // the UTC day of the last complete anomaly check
  std::map<std::string, SentAnomaly, std::less<>> anomalies;  // by anomaly id
  bool operator==(const InsightsState&) const = default;
};

inline constexpr std::string_view kInsightsFile = "insights.json";

// How far each anomaly check looks back: anomalies that end on or after the watermark's day less
// this (first check: today less this), so late detections and updates within a week are seen.
inline constexpr std::chrono::days kAnomalyLookback{7};
// How long an anomaly is remembered after the last check it was in.
inline constexpr std::chrono::days kAnomalyMemory{60};

// DateInterval.StartDate of the anomaly check of `today`.
Day anomaly_query_start(const InsightsState& state, Day today);

// Forgets anomalies not seen since before `oldest`.
void prune_anomalies(InsightsState& state, Day oldest);

// Pure: the file format. parse_insights throws StateError naming what is wrong.
std::string serialize_insights(const InsightsState& state);
InsightsState parse_insights(std::string_view text);

// <dir>/insights.json; nullopt when there is none yet. A file that cannot be read or parsed is a
// StateError.
std::optional<InsightsState> load_insights(const std::filesystem::path& dir);
// Writes it atomically (the directory must exist: the service's lock lives there). Throws
// StateError leaving the old file.
void save_insights(const std::filesystem::path& dir, const InsightsState& state);

}  // namespace sab::state
