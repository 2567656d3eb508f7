// Benchmark 2: the service's Deliverer posting events to a real HTTP server.
//
//   bench_delivery --target http://127.0.0.1:P/ --corpus pages.jsonl [--events 200000]
//                  [--mode binary|structured|batch] [--batch-size 100] [--concurrency 4]
//                  [--runs 5] [--state-dir DIR]
//
// The events are made from the corpus (parse + mapping, untimed; the pages are cycled when the
// corpus has fewer groups). Each run hands a copy of them to one Deliverer::deliver() call on a
// single-threaded io_context, as the service does, and times it until every event is settled.
// One JSON line per run on stdout: seconds, events, requests. Exits 1 when an event was not
// delivered.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "aws/cost_explorer.hpp"
#include "bench_util.hpp"
#include "delivery/deliverer.hpp"
#include "events/mapping.hpp"
#include "metrics/metrics.hpp"

namespace sab::bench {
namespace {

std::vector<events::Event> make_corpus_events(const std::vector<std::string>& pages,
                                              const std::vector<config::GroupBy>& group_by,
                                              std::size_t count) {
  const auto now = std::chrono::system_clock::now();
  std::vector<events::Event> out;
  out.reserve(count);
  while (out.size() < count) {
    for (const auto& text : pages) {
      std::string buffer = text;
      for (const auto& period : aws::parse_page(buffer).periods) {
        for (auto& e : events::make_events(period, group_by, config::Granularity::daily, now)) {
          out.push_back(std::move(e));
          if (out.size() == count) return out;
        }
      }
    }
  }
  return out;
}

config::DeliveryMode parse_mode(const std::string& mode) {
  if (mode == "binary") return config::DeliveryMode::binary;
  if (mode == "structured") return config::DeliveryMode::structured;
  if (mode == "batch") return config::DeliveryMode::batch;
  throw std::invalid_argument("unknown --mode " + mode);
}

int run(const Args& args) {
  const auto pages = read_pages(args.get("corpus", ""));
  const auto group_by = parse_group_by(args.get("group-by", "SERVICE,LINKED_ACCOUNT"));
  const auto count = static_cast<std::size_t>(args.number("events", 200'000));
  const int runs = static_cast<int>(args.number("runs", 5));
  const auto events = make_corpus_events(pages, group_by, count);

  delivery::DelivererOptions options;
  options.target = args.get("target", "");
  options.mode = parse_mode(args.get("mode", "binary"));
  options.batch_size = static_cast<std::size_t>(args.number("batch-size", 100));
  options.concurrency = static_cast<std::size_t>(args.number("concurrency", 4));
  options.max_attempts = 3;
  options.state_dir = args.get(
      "state-dir", (std::filesystem::temp_directory_path() / "sab-bench-dead-letters").string());
  const std::size_t unit =
      options.mode == config::DeliveryMode::batch ? options.batch_size : std::size_t{1};

  boost::asio::io_context io{1};
  metrics::Metrics metrics;
  delivery::Deliverer deliverer(io.get_executor(), options, metrics);
  for (int r = 0; r < runs; ++r) {
    std::vector<events::Event> copy = events;
    delivery::DeliveryResult result;
    std::exception_ptr error;
    const auto start = Clock::now();
    boost::asio::co_spawn(io, deliverer.deliver(std::move(copy)),
                          [&](std::exception_ptr e, delivery::DeliveryResult res) {
                            error = e;
                            result = res;
                          });
    io.restart();
    io.run();
    const double seconds = seconds_since(start);
    if (error) std::rethrow_exception(error);
    if (result.delivered != events.size()) {
      std::fprintf(stderr, "bench_delivery: %zu of %zu events delivered (%zu failed)\n",
                   result.delivered, events.size(), result.failed);
      return 1;
    }
    print_run(r, seconds,
              {{"events", static_cast<double>(events.size())},
               {"requests", static_cast<double>((events.size() + unit - 1) / unit)}});
  }
  return 0;
}

}  // namespace
}  // namespace sab::bench

int main(int argc, char** argv) {
  try {
    return sab::bench::run(sab::bench::Args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_delivery: %s\n", e.what());
    return 1;
  }
}
