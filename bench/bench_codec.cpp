// Benchmark 1: GetCostAndUsage pages -> parser -> event mapping -> structured-mode encoder.
//
//   bench_codec --corpus pages.jsonl [--mode ours|stages|ceiling] [--runs 5]
//               [--group-by SERVICE,LINKED_ACCOUNT]
//
// ours:    the service's own code, page by page, as the pipeline runs it (aws::parse_page,
//          events::make_events, events::write_http_request in structured mode), timed over the
//          whole corpus.
// stages:  the same three steps timed apart (all pages parsed, then all mapped, then all encoded).
// ceiling: simdjson On-Demand walking the same documents (one parser, pre-padded input),
//          reading every key, amount and unit: what the hardware allows for just reading them.
// One JSON line per run on stdout: seconds, input bytes, events (and the stage times).

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "aws/cost_explorer.hpp"
#include "bench_util.hpp"
#include "events/encoding.hpp"
#include "events/mapping.hpp"

namespace sab::bench {
namespace {

namespace od = simdjson::ondemand;

const auto kNow = std::chrono::system_clock::time_point{std::chrono::seconds{1'704'074'400}};

std::size_t total_bytes(const std::vector<std::string>& pages) {
  std::size_t n = 0;
  for (const auto& p : pages)
    n += p.size();
  return n;
}

void run_ours(const std::vector<std::string>& pages, const std::vector<config::GroupBy>& group_by,
              int runs) {
  const double bytes = static_cast<double>(total_bytes(pages));
  std::string buffer;
  std::string head;
  std::string body;
  for (int run = 0; run < runs; ++run) {
    std::size_t events = 0, out_bytes = 0;
    const auto start = Clock::now();
    for (const auto& text : pages) {
      buffer.assign(text);  // parse_page pads its argument in place
      const auto page = aws::parse_page(buffer);
      for (const auto& period : page.periods) {
        for (const auto& event :
             events::make_events(period, group_by, config::Granularity::daily, kNow)) {
          head.clear();
          out_bytes +=
              events::write_http_request(config::DeliveryMode::structured, {&event, 1}, head, body)
                  .size();
          ++events;
        }
      }
    }
    const double seconds = seconds_since(start);
    print_run(run, seconds,
              {{"bytes", bytes},
               {"events", static_cast<double>(events)},
               {"out_bytes", static_cast<double>(out_bytes)}});
  }
}

void run_stages(const std::vector<std::string>& pages, const std::vector<config::GroupBy>& group_by,
                int runs) {
  const double bytes = static_cast<double>(total_bytes(pages));
  for (int run = 0; run < runs; ++run) {
    std::vector<std::string> copies(pages);
    std::vector<aws::Page> parsed;
    parsed.reserve(pages.size());
    auto start = Clock::now();
    for (auto& text : copies)
      parsed.push_back(aws::parse_page(text));
    const double parse_s = seconds_since(start);

    std::vector<events::Event> made;
    start = Clock::now();
    for (const auto& page : parsed) {
      for (const auto& period : page.periods) {
        auto evs = events::make_events(period, group_by, config::Granularity::daily, kNow);
        for (auto& e : evs)
          made.push_back(std::move(e));
      }
    }
    const double map_s = seconds_since(start);

    std::string head;
    std::string body;
    std::size_t out_bytes = 0;
    start = Clock::now();
    for (const auto& e : made) {
      head.clear();
      out_bytes +=
          events::write_http_request(config::DeliveryMode::structured, {&e, 1}, head, body).size();
    }
    const double encode_s = seconds_since(start);
    print_run(run, parse_s + map_s + encode_s,
              {{"bytes", bytes},
               {"events", static_cast<double>(made.size())},
               {"parse_seconds", parse_s},
               {"map_seconds", map_s},
               {"encode_seconds", encode_s},
               {"out_bytes", static_cast<double>(out_bytes)}});
  }
}

template <class T, class R>
T must(R&& result) {
  T value;
  if (auto ec = std::forward<R>(result).get(value)) {
    throw std::runtime_error(simdjson::error_message(ec));
  }
  return value;
}

void run_ceiling(const std::vector<std::string>& pages, int runs) {
  std::vector<simdjson::padded_string> padded;
  padded.reserve(pages.size());
  for (const auto& p : pages)
    padded.emplace_back(p);
  const double bytes = static_cast<double>(total_bytes(pages));
  od::parser parser;
  for (int run = 0; run < runs; ++run) {
    std::size_t groups = 0, touched = 0;
    const auto start = Clock::now();
    for (auto& text : padded) {
      od::document doc = must<od::document>(parser.iterate(text));
      od::array results = must<od::array>(doc["ResultsByTime"].get_array());
      for (auto r : results) {
        od::object period = must<od::object>(r.get_object());
        const auto day = must<std::string_view>(period["TimePeriod"]["Start"].get_string());
        touched += day.size();
        for (auto g : must<od::array>(period["Groups"].get_array())) {
          od::object group = must<od::object>(g.get_object());
          for (auto k : must<od::array>(group["Keys"].get_array())) {
            touched += must<std::string_view>(k.get_string()).size();
          }
          for (auto m : must<od::object>(group["Metrics"].get_object())) {
            od::field f = must<od::field>(std::move(m));
            od::object metric = must<od::object>(f.value().get_object());
            touched += must<std::string_view>(metric["Amount"].get_string()).size();
            touched += must<std::string_view>(metric["Unit"].get_string()).size();
          }
          ++groups;
        }
      }
    }
    const double seconds = seconds_since(start);
    print_run(run, seconds,
              {{"bytes", bytes},
               {"events", static_cast<double>(groups)},
               {"touched", static_cast<double>(touched)}});
  }
}

}  // namespace
}  // namespace sab::bench

int main(int argc, char** argv) {
  using namespace sab::bench;
  try {
    const Args args(argc, argv);
    const auto pages = read_pages(args.get("corpus", ""));
    const auto group_by = parse_group_by(args.get("group-by", "SERVICE,LINKED_ACCOUNT"));
    const int runs = static_cast<int>(args.number("runs", 5));
    const std::string mode = args.get("mode", "ours");
    if (mode == "ours") {
      run_ours(pages, group_by, runs);
    } else if (mode == "stages") {
      run_stages(pages, group_by, runs);
    } else if (mode == "ceiling") {
      run_ceiling(pages, runs);
    } else {
      std::fprintf(stderr, "bench_codec: unknown --mode %s\n", mode.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_codec: %s\n", e.what());
    return 1;
  }
  return 0;
}
