#pragma once

// The dead-letter file: events the target refused permanently, one structured-mode JSON per
// line in state_dir, so nothing refused is lost silently.

#include <string>

#include "events/event.hpp"

namespace sab::delivery {

// The dead-letter file `<state_dir>/dead-letter.jsonl`: one structured-mode JSON event per line,
// for events the target refused permanently (SPEC §4).
class DeadLetter {
 public:
  explicit DeadLetter(std::string state_dir);

  // Appends one line and fsyncs it. Creates state_dir (and parents) and the file (mode 0600) when
  // missing. Throws std::runtime_error naming the path when anything fails, so the caller can count
  // the event as failed rather than lose it.
  void append(const events::Event& event);

  const std::string& path() const { return path_; }

 private:
  std::string state_dir_;
  std::string path_;
  std::string line_;  // reused buffer
};

}  // namespace sab::delivery
