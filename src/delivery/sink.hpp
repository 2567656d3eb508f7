#pragma once

// Where events go and how a delivery reports back: the interface the pipeline delivers
// through, with the HTTP target and the dry run behind it.

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "events/event.hpp"

namespace sab::delivery {

// How every event of one deliver() call was settled.
struct DeliveryResult {
  std::size_t delivered = 0;      // acknowledged with a 2xx
  std::size_t dead_lettered = 0;  // refused permanently and written to the dead-letter file
  std::size_t failed = 0;  // not delivered: attempts exhausted, stopped, or dead letter failed
  // Which events of the deliver() call failed (indices into its batch, any order); a sink that
  // leaves it short of `failed` makes the caller treat every event of the call as failed. Not
  // kept by +=: the indices belong to one call.
  std::vector<std::size_t> failed_at = {};
  // Non-empty when the target answered in a way only fixing its URL or front can cure (a 302, a
  // redirect loop, ...): one line such as "target answered HTTP 302 (redirect to <Location>): not
  // followed; fix target". Kept by += when the right side has one (the latest problem wins).
  std::string target_problem = {};

  // The checkpoint may move past these events only when this is true.
  bool settled() const { return failed == 0; }
  DeliveryResult& operator+=(const DeliveryResult& o) {
    delivered += o.delivered;
    dead_lettered += o.dead_lettered;
    failed += o.failed;
    if (!o.target_problem.empty()) target_problem = o.target_problem;
    return *this;
  }
  // The counts.
  bool operator==(const DeliveryResult& o) const {
    return delivered == o.delivered && dead_lettered == o.dead_lettered && failed == o.failed;
  }
};

// Where events go: the HTTP target (Deliverer) or stdout (DryRunSink, --dry-run).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Completes once every event of `batch` is settled (delivered, dead-lettered or failed).
  virtual boost::asio::awaitable<DeliveryResult> deliver(std::vector<events::Event> batch) = 0;
  // Stops retrying: waits between attempts end at once and no new attempt starts; requests in
  // flight finish (bounded by their timeout). Unsettled events are reported failed. Thread-safe.
  virtual void stop() {}

  // Events settled for good: acknowledged with a 2xx, or written to the dead-letter file. Called
  // once per request as its answer arrives, before that request's worker sends anything else,
  // with `first` = the index of events.front() in the deliver() call's batch. The journal of
  // acknowledgements hooks in here (SPEC §4: a restart re-sends only what was in flight).
  using SettledObserver =
      std::function<void(std::size_t first, std::span<const events::Event> events)>;
  void on_settled(SettledObserver observer) { settled_ = std::move(observer); }

 protected:
  void report_settled(std::size_t first, std::span<const events::Event> events) const {
    if (settled_) settled_(first, events);
  }

 private:
  SettledObserver settled_;
};

}  // namespace sab::delivery
