#include "delivery/dry_run.hpp"

#include <string>

#include "common/log.hpp"
#include "events/encoding.hpp"

namespace sab::delivery {

bool write_json_lines(std::ostream& out, const std::vector<events::Event>& batch) {
  std::string line;
  for (const auto& event : batch) {
    line.clear();
    events::append_structured_json(line, event);
    line.push_back('\n');
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  out.flush();
  return static_cast<bool>(out);
}

boost::asio::awaitable<DeliveryResult> DryRunSink::deliver(std::vector<events::Event> batch) {
  DeliveryResult result;
  if (!closed_ && write_json_lines(out_, batch)) {
    result.delivered = batch.size();
  } else {
    result.failed = batch.size();
    for (std::size_t i = 0; i < batch.size(); ++i)
      result.failed_at.push_back(i);
    if (!closed_) {
      closed_ = true;
      log::error("stdout is closed; the dry run ends", {{"events_not_written", batch.size()}});
      if (on_closed_) on_closed_();
    }
  }
  co_return result;
}

}  // namespace sab::delivery
