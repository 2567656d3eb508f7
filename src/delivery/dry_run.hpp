#pragma once

// --dry-run: the events as they would be sent, written to stdout as JSON lines; nothing is
// delivered and no state is written.

#include <functional>
#include <ostream>
#include <vector>

#include "delivery/sink.hpp"

namespace sab::delivery {

// --dry-run: writes each event as one line of structured-mode JSON and reports all delivered.
// When the stream fails (stdout closed, as by `| head -1`), the events are reported failed and
// `on_closed` runs once, so the run can end instead of pulling pages nobody reads.
class DryRunSink : public EventSink {
 public:
  explicit DryRunSink(std::ostream& out, std::function<void()> on_closed = {})
      : out_(out), on_closed_(std::move(on_closed)) {}
  boost::asio::awaitable<DeliveryResult> deliver(std::vector<events::Event> batch) override;
  bool closed() const { return closed_; }

 private:
  std::ostream& out_;
  std::function<void()> on_closed_;
  bool closed_ = false;
};

// The pure part: one JSON line per event, flushed at the end. Returns false when the stream
// failed (e.g. stdout closed).
bool write_json_lines(std::ostream& out, const std::vector<events::Event>& batch);

}  // namespace sab::delivery
