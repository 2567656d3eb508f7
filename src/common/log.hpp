#pragma once

// Structured log lines (JSON or key=value text) on stderr, with every registered secret masked.
// At the bottom of the layers: every folder may log; config's log settings map onto these enums.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace sab::log {

enum class Level { debug, info, warn, error };
enum class Format { json, text };
std::string_view to_string(Level level);

// One key=value of a log line. Values are copied into the line at once, so views are safe.
struct Field {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, double, bool> value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <class I>
  requires std::is_integral_v<I> Field(std::string_view k, I v)
      : key(k), value(static_cast<std::int64_t>(v)) {}
};

void configure(Level level, Format format);
bool enabled(Level level);

// Every registered secret is replaced by "******" wherever it would appear in a line: a last
// line of defence, the code never passes secrets on purpose.
void add_secret(std::string_view secret);
void clear_secrets();
std::string redact(std::string_view text);

// Where lines go (stderr by default); tests capture them.
void set_sink(std::function<void(std::string_view line)> sink);

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::debug)) write(Level::debug, msg, f);
}
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) {
  write(Level::info, msg, f);
}
inline void warn(std::string_view msg, std::initializer_list<Field> f = {}) {
  write(Level::warn, msg, f);
}
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) {
  write(Level::error, msg, f);
}

}  // namespace sab::log
