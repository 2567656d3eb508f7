#pragma once

// The checkpoint and restatement digests, persisted in state_dir: the file format, atomic
// saves and the directory lock that keeps one process per state.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sab::state {

using Day = std::chrono::sys_days;

struct State {
  // The last billing day whose events were all acknowledged (for MONTHLY: the last day of the last
  // month delivered). None before the first delivery.
  std::optional<Day> checkpoint;
  // Per delivered period in the restatement or follow window: group key -> the id of the event
  // the sink holds. The id changes when an amount changes or the period turns final, so it serves
  // as the digest of both. Version 1 of the file stored ids without the estimated flag, which
  // are the digests of the amounts alone (events::Event::amounts): they are read with the prefix
  // kAmountsDigest and compared as such once, then replaced by the id (migrated, nothing re-sent).
  std::map<Day, std::map<std::string, std::string>> digests;
  // Delivered periods AWS still marked Estimated, followed until they turn final.
  std::set<Day> estimated;
  // The id of the last summary event delivered per period (with its digests).
  std::map<Day, std::string> summaries;

  bool operator==(const State&) const = default;
};

// A version-1 digest: the amounts' digest of an id without the estimated flag.
inline constexpr std::string_view kAmountsDigest = "a:";

class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Pure: the file format (JSON, versioned). parse also reads version 1 (no estimated periods, no
// summaries; its digests are read as they are).
std::string serialize(const State& state);
State parse(std::string_view text);  // throws StateError naming what is wrong

// A short stable key of a group within a day (the event subject hashed).
std::string group_key(std::string_view subject);

// Drops digests and summary ids of periods before `oldest`.
void prune_digests(State& state, Day oldest);
// Drops the digests and summary ids of periods that are neither followed (estimated) nor from
// `restate_from` on (none: no restatement), so the file holds what the next pulls compare only.
void prune_unused(State& state, std::optional<Day> restate_from);

inline constexpr std::string_view kStateFile = "state.json";

// Reads <dir>/state.json; nullopt when there is none yet. A file that cannot be read or parsed is
// a StateError, never a silent reset.
std::optional<State> load(const std::filesystem::path& dir);

// Writes <dir>/<name> atomically: temp file (0600), fsync, rename over it, fsync of the
// directory; a crash leaves the old file or the new one, never a torn one. Creates the directory
// when missing. Throws StateError (e.g. disk full) leaving the old file.
void write_atomically(const std::filesystem::path& dir, std::string_view name,
                      std::string_view text);

// The text of a file of state_dir; nullopt when there is none. `label` starts its messages
// ("state file "). Throws StateError when it exists but cannot be read.
std::optional<std::string> read_if_exists(const std::filesystem::path& path,
                                          std::string_view label);

// state.json, written atomically (write_atomically).
void save(const std::filesystem::path& dir, const State& state);

// An exclusive lock on <dir>/lock so two processes never pull into the same state: a second
// service would double every event. Released when destroyed.
class DirLock {
 public:
  // Throws StateError when another process holds it (or it cannot be created).
  explicit DirLock(const std::filesystem::path& dir);
  // Nullopt when another process holds it.
  static std::optional<DirLock> try_acquire(const std::filesystem::path& dir);
  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  ~DirLock();

 private:
  DirLock() = default;
  int fd_ = -1;
};

}  // namespace sab::state
