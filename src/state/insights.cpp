#include "state/insights.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/dates.hpp"

namespace sab::state {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int kVersion = 1;

std::string errno_text() {
  return std::strerror(errno);
}

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

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw StateError("cannot write '" + path + "': " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Temp file (0600), fsync, rename over <dir>/<name>, fsync of the directory: a crash leaves the
// old file or the new one, never a torn one.
void write_atomically(const fs::path& dir, std::string_view name, std::string_view text) {
  const std::string final_path = (dir / name).string();
  const std::string temp_path = final_path + ".tmp";
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw StateError("cannot create '" + temp_path + "': " + errno_text());
  try {
    write_all(fd, text, temp_path);
    if (::fsync(fd) != 0) throw StateError("cannot fsync '" + temp_path + "': " + errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(temp_path.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(temp_path.c_str());
    throw StateError("cannot close '" + temp_path + "': " + errno_text());
  }
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(temp_path.c_str());
    throw StateError("cannot rename '" + temp_path + "' to '" + final_path + "': " + why);
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
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
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec) throw StateError("'" + path.string() + "': " + ec.message());
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw StateError("'" + path.string() + "' cannot be read: " + errno_text());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  try {
    return parse_insights(buffer.str());
  } catch (const StateError& e) {
    throw StateError("'" + path.string() + "' is corrupt (" + e.what() +
                     "); fix it, or move it away to start the forecast and anomaly checks over");
  }
}

void save_insights(const fs::path& dir, const InsightsState& state) {
  write_atomically(dir, kInsightsFile, serialize_insights(state));
}

}  // namespace sab::state
