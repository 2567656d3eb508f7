#pragma once

#include <ostream>
#include <vector>

#include "delivery/sink.hpp"

namespace sab::delivery {

// --dry-run: writes each event as one line of structured-mode JSON and reports all delivered.
class DryRunSink : public EventSink {
 public:
  explicit DryRunSink(std::ostream& out) : out_(out) {}
  boost::asio::awaitable<DeliveryResult> deliver(std::vector<events::Event> batch) override;

 private:
  std::ostream& out_;
};

// The pure part: one JSON line per event, flushed at the end. Returns false when the stream
// failed (e.g. stdout closed).
bool write_json_lines(std::ostream& out, const std::vector<events::Event>& batch);

}  // namespace sab::delivery
