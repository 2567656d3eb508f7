#include "metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/version.hpp"

namespace sab::metrics {
namespace {

constexpr const char* kPrefix = "aws_billing_source_";

std::string name(const char* suffix) {
  return std::string(kPrefix) + suffix;
}

prometheus::Histogram::BucketBoundaries duration_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

// fdatasync takes from well under a millisecond (a fast SSD) to tens of milliseconds.
prometheus::Histogram::BucketBoundaries fsync_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

}  // namespace

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(registry ? std::move(registry) : std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& r = *registry_;

  BuildGauge()
      .Name(name("build_info"))
      .Help("Build of the running service; always 1")
      .Register(r)
      .Add({{"version", common::kVersion}, {"commit", common::kCommit}})
      .Set(1);

  pulls_ = &BuildCounter().Name(name("pulls_total")).Help("Daily pulls by result").Register(r);
  ce_requests_ = &BuildCounter()
                      .Name(name("cost_explorer_requests_total"))
                      .Help(
                          "Cost Explorer API requests by operation and result; each one is billed "
                          "USD 0.01")
                      .Register(r);
  ce_request_duration_ = &BuildHistogram()
                              .Name(name("cost_explorer_request_duration_seconds"))
                              .Help("Duration of Cost Explorer API requests")
                              .Register(r)
                              .Add({}, duration_buckets());
  events_ = &BuildCounter().Name(name("events_total")).Help("CloudEvents by result").Register(r);
  attempts_ = &BuildCounter()
                   .Name(name("delivery_attempts_total"))
                   .Help("HTTP requests to the target by result")
                   .Register(r);
  delivery_duration_ = &BuildHistogram()
                            .Name(name("delivery_duration_seconds"))
                            .Help("Duration of HTTP requests to the target")
                            .Register(r)
                            .Add({}, duration_buckets());
  in_flight_ = &BuildGauge()
                    .Name(name("deliveries_in_flight"))
                    .Help("HTTP requests to the target in flight")
                    .Register(r)
                    .Add({});
  last_success_ = &BuildGauge()
                       .Name(name("last_successful_pull_timestamp_seconds"))
                       .Help("Unix time of the last successful pull; 0 before the first")
                       .Register(r)
                       .Add({});
  checkpoint_ = &BuildGauge()
                     .Name(name("checkpoint_timestamp_seconds"))
                     .Help("Start (00:00 UTC, Unix time) of the last billing day delivered whole")
                     .Register(r)
                     .Add({});
  ready_ = &BuildGauge()
                .Name(name("ready"))
                .Help("1 when /readyz answers 200, else 0")
                .Register(r)
                .Add({});
  account_info_ = &BuildGauge()
                       .Name(name("account_info"))
                       .Help("1 per linked account seen (group_by LINKED_ACCOUNT), with its name")
                       .Register(r);
  credentials_ = &BuildCounter()
                      .Name(name("credential_refreshes_total"))
                      .Help("Loads and refreshes of AWS credentials by result")
                      .Register(r);
  task_failures_ = &BuildCounter()
                        .Name(name("task_failures_total"))
                        .Help("Background tasks that ended with an unexpected error")
                        .Register(r);
  http_requests_ = &BuildCounter()
                        .Name(name("http_requests_total"))
                        .Help("Requests to this service's own HTTP endpoints by path")
                        .Register(r);
  skipped_ = &BuildCounter()
                  .Name(name("events_skipped_total"))
                  .Help(
                      "Events of a pull not sent, by reason (journalled: acknowledged before a "
                      "restart)")
                  .Register(r);
  insight_errors_ = &BuildCounter()
                         .Name(name("insight_errors_total"))
                         .Help("Daily forecast or anomaly checks that failed, by kind")
                         .Register(r);
  journal_records_ = &BuildCounter()
                          .Name(name("journal_records_total"))
                          .Help("Records appended to the acknowledgement journal")
                          .Register(r)
                          .Add({});
  journal_fsyncs_ = &BuildCounter()
                         .Name(name("journal_fsyncs_total"))
                         .Help("Group commits (fdatasync) of the acknowledgement journal")
                         .Register(r)
                         .Add({});
  journal_fsync_duration_ = &BuildHistogram()
                                 .Name(name("journal_fsync_duration_seconds"))
                                 .Help("Duration of the acknowledgement journal's fdatasync")
                                 .Register(r)
                                 .Add({}, fsync_buckets());

  for (auto v : kPullResults)
    pulls(v);
  for (auto op : kCeOperations) {
    for (auto v : kCeResults)
      ce_requests(op, v);
  }
  for (auto v : kInsightKinds)
    insight_errors(v);
  for (auto v : kEventResults)
    events(v);
  for (auto v : kAttemptResults)
    delivery_attempts(v);
  for (auto v : kCredentialResults)
    credential_refreshes(v);
  for (auto v : kSkipReasons)
    events_skipped(v);
  for (auto v : {"/healthz", "/readyz", "/metrics", "other"})
    http_requests(v);
  for (auto v :
       {"scheduler", "delivery", "http_server", "credentials", "signals", "shutdown", "supervisor"})
    task_failures(v);
}

template <class Family, class Metric>
Metric& Metrics::labelled(Family& family, std::map<std::string, Metric*, std::less<>>& cache,
                          std::string_view label, std::string_view value) {
  if (auto it = cache.find(value); it != cache.end()) return *it->second;
  Metric& m = family.Add({{std::string(label), std::string(value)}});
  cache.emplace(std::string(value), &m);
  return m;
}

prometheus::Counter& Metrics::pulls(std::string_view result) {
  return labelled(*pulls_, pulls_by_, "result", result);
}
prometheus::Counter& Metrics::ce_requests(std::string_view operation, std::string_view result) {
  std::string key;
  key.reserve(operation.size() + 1 + result.size());
  key.append(operation).push_back('\n');
  key.append(result);
  if (auto it = ce_by_.find(key); it != ce_by_.end()) return *it->second;
  auto& m =
      ce_requests_->Add({{"operation", std::string(operation)}, {"result", std::string(result)}});
  ce_by_.emplace(std::move(key), &m);
  return m;
}
prometheus::Counter& Metrics::events(std::string_view result) {
  return labelled(*events_, events_by_, "result", result);
}
prometheus::Counter& Metrics::delivery_attempts(std::string_view result) {
  return labelled(*attempts_, attempts_by_, "result", result);
}
prometheus::Counter& Metrics::credential_refreshes(std::string_view result) {
  return labelled(*credentials_, credentials_by_, "result", result);
}
prometheus::Counter& Metrics::task_failures(std::string_view task) {
  return labelled(*task_failures_, task_failures_by_, "task", task);
}
prometheus::Counter& Metrics::http_requests(std::string_view path) {
  return labelled(*http_requests_, http_by_, "path", path);
}
prometheus::Counter& Metrics::events_skipped(std::string_view reason) {
  return labelled(*skipped_, skipped_by_, "reason", reason);
}
prometheus::Counter& Metrics::insight_errors(std::string_view kind) {
  return labelled(*insight_errors_, insight_errors_by_, "kind", kind);
}

void Metrics::set_costs(const std::vector<std::string>& group_labels,
                        const std::vector<CostSample>& samples) {
  // The family is replaced whole: groups absent from the last pull must not linger.
  if (cost_ != nullptr) {
    registry_->Remove(*cost_);
    cost_ = nullptr;
  }
  cost_ = &prometheus::BuildGauge()
               .Name(name("cost"))
               .Help("Costs of the last pulled billing day by group, metric and unit")
               .Register(*registry_);
  for (const auto& s : samples) {
    std::map<std::string, std::string> labels{{"metric", s.metric}, {"unit", s.unit}};
    for (std::size_t i = 0; i < group_labels.size() && i < s.group_values.size(); ++i) {
      labels[group_labels[i]] = s.group_values[i];
    }
    cost_->Add(labels).Set(s.amount);
  }
}

void Metrics::set_account_name(const std::string& account, const std::string& name) {
  auto it = account_names_.find(account);
  if (it != account_names_.end()) {
    if (it->second.first == name) return;
    account_info_->Remove(it->second.second);
  }
  auto& gauge = account_info_->Add({{"linked_account", account}, {"name", name}});
  gauge.Set(1);
  account_names_[account] = {name, &gauge};
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer{}.Serialize(registry_->Collect());
}

std::size_t keep_largest_costs(std::vector<Metrics::CostSample>& samples, std::size_t limit) {
  if (samples.size() <= limit) return 0;
  std::vector<std::size_t> order(samples.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  const auto larger = [&](std::size_t a, std::size_t b) {
    if (samples[a].amount != samples[b].amount) return samples[a].amount > samples[b].amount;
    return a < b;
  };
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(limit), order.end(),
                   larger);
  order.resize(limit);
  std::sort(order.begin(), order.end());
  std::vector<Metrics::CostSample> kept;
  kept.reserve(limit);
  for (std::size_t i : order)
    kept.push_back(std::move(samples[i]));
  const std::size_t dropped = samples.size() - limit;
  samples = std::move(kept);
  return dropped;
}

std::string label_name(std::string_view type, std::string_view key) {
  std::string out;
  if (type == "TAG") out = "tag_";
  if (type == "COST_CATEGORY") out = "cost_category_";
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_');
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(0, "_");
  // Names starting with "__" are reserved by Prometheus.
  while (out.starts_with("__"))
    out.erase(0, 1);
  if (out == "metric" || out == "unit") out += "_";
  return out;
}

}  // namespace sab::metrics
