#include "common/log.hpp"

#include <date/date.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

#include "common/json.hpp"

namespace sab::log {
namespace {

struct State {
  std::mutex mutex;
  Level level = Level::info;
  Format format = Format::json;
  std::vector<std::string> secrets;
  std::function<void(std::string_view)> sink;
};

State& state() {
  static State s;
  return s;
}

std::string_view level_name(Level l) {
  return to_string(l);
}

std::string timestamp() {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return date::format("%FT%TZ", now);
}

std::string redact_locked(const State& s, std::string text) {
  for (const auto& secret : s.secrets) {
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), "******");
      pos += 6;
    }
  }
  return text;
}

void append_value_text(std::string& out, const Field& f) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          const bool plain = !v.empty() && std::none_of(v.begin(), v.end(), [](char c) {
            return c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20;
          });
          if (plain) {
            out += v;
          } else {
            common::append_json_string(out, v);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else {
          out += std::to_string(v);
        }
      },
      f.value);
}

void append_value_json(std::string& out, const Field& f) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          common::append_json_string(out, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.6g", v);
          out += buf;
        } else {
          out += std::to_string(v);
        }
      },
      f.value);
}

}  // namespace

std::string_view to_string(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

void configure(Level level, Format format) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.level = level;
  s.format = format;
}

bool enabled(Level level) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return level >= s.level;
}

void add_secret(std::string_view secret) {
  // Very short values would mask ordinary words; they are not credentials anyway.
  if (secret.size() < 4) return;
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (std::find(s.secrets.begin(), s.secrets.end(), secret) == s.secrets.end()) {
    s.secrets.emplace_back(secret);
    // Longest first, so a secret containing another is masked whole.
    std::sort(s.secrets.begin(), s.secrets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
  }
}

void clear_secrets() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.secrets.clear();
}

std::string redact(std::string_view text) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return redact_locked(s, std::string(text));
}

void set_sink(std::function<void(std::string_view)> sink) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.sink = std::move(sink);
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (level < s.level) return;
  std::string line;
  line.reserve(128);
  if (s.format == Format::json) {
    line += "{\"ts\":\"";
    line += timestamp();
    line += "\",\"level\":\"";
    line += level_name(level);
    line += "\",\"msg\":";
    common::append_json_string(line, msg);
    for (const auto& f : fields) {
      line += ',';
      common::append_json_string(line, f.key);
      line += ':';
      append_value_json(line, f);
    }
    line += '}';
  } else {
    line += timestamp();
    line += ' ';
    std::string lv(level_name(level));
    std::transform(lv.begin(), lv.end(), lv.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    line += lv;
    line += ' ';
    // A message is one line whatever it holds.
    for (char c : msg)
      line += (c == '\n' || c == '\r') ? ' ' : c;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      append_value_text(line, f);
    }
  }
  line = redact_locked(s, std::move(line));
  line += '\n';
  if (s.sink) {
    s.sink(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace sab::log
