// Runtime's journal of acknowledgements (declared in runtime.hpp): opened when the state is held,
// truncated when state.json moves on.
#include "app/runtime.hpp"
#include "common/log.hpp"

namespace sab::app {

void Runtime::open_journal(const state::State& state, bool once) {
  if (const auto off = config::process_env()("SAB_JOURNAL"); off && *off == "off") {
    log::warn(
        "SAB_JOURNAL=off: acknowledgements are not journalled; a crash re-sends every "
        "event of the open days (for benchmarks' baseline only)");
    return;
  }
  state::JournalOptions options;
  options.records_written = [this](std::size_t records) {
    metrics_.journal_records().Increment(static_cast<double>(records));
  };
  // From the journal's commit thread: prometheus-cpp's counters and histograms are thread-safe.
  options.synced = [this](double seconds) {
    metrics_.journal_fsyncs().Increment();
    metrics_.journal_fsync_duration().Observe(seconds);
  };
  auto journal = std::make_unique<state::AckJournal>(config_.state_dir, std::move(options));
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_());
  try {
    const auto opened = journal->open(state.checkpoint, journal_from(now));
    if (opened.tail != state::JournalTail::clean) {
      log::warn(
          "journal: a torn or corrupt tail is ignored (a crash in the middle of a write); "
          "the records before it are kept",
          {{"tail", state::to_string(opened.tail)},
           {"problem", opened.problem},
           {"ignored_bytes", opened.ignored_bytes},
           {"kept_records", opened.records.size()}});
    }
    std::size_t ids = 0;
    for (const auto& r : opened.records)
      ids += r.ids.size();
    if (ids != 0 || opened.dropped_records != 0) {
      log::info("journal loaded: these events were acknowledged before and are not sent again",
                {{"events", ids},
                 {"records", opened.records.size()},
                 {"dropped_records", opened.dropped_records}});
    }
  } catch (const state::StateError& e) {
    log::error("cannot use the journal; after a crash every event of the open days is sent again",
               {{"error", e.what()}});
    return;
  }
  journal_ = std::move(journal);
  pipeline_->use_journal(journal_.get(), once ? state.checkpoint : std::nullopt);
}

void Runtime::state_saved(const state::State& state) {
  if (journal_) journal_->retain(state.checkpoint);
}

}  // namespace sab::app
