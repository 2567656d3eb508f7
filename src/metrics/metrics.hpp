#pragma once

// Every Prometheus series of the service (prefix aws_billing_source_): counters, histograms,
// gauges, with their label sets created at zero at start.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sab::metrics {

// Result labels, created at zero on start so rate() and absent() work from the first scrape.
inline constexpr std::string_view kPullResults[] = {"success", "failure"};
inline constexpr std::string_view kCeResults[] = {"success",      "throttled",  "server_error",
                                                  "client_error", "auth_error", "transport_error",
                                                  "bad_response"};
// Cost Explorer actions, each request billed: the `operation` label of the requests counter.
inline constexpr std::string_view kCeOperations[] = {"GetCostAndUsage", "GetCostForecast",
                                                     "GetAnomalies"};
// What a failed forecast or anomaly check was for (insight_errors).
inline constexpr std::string_view kInsightKinds[] = {"forecast", "anomalies"};
inline constexpr std::string_view kEventResults[] = {"delivered", "failed", "dead_lettered"};
inline constexpr std::string_view kAttemptResults[] = {"success",          "retryable_status",
                                                       "permanent_status", "transport_error",
                                                       "redirected",       "misconfigured"};
inline constexpr std::string_view kCredentialResults[] = {"success", "failure"};
// Why events of a pull were not sent: "journalled" = acknowledged before a restart (the journal).
inline constexpr std::string_view kSkipReasons[] = {"journalled"};

// Every metric of the service, under one prefix. Families are owned by the registry.
class Metrics {
 public:
  explicit Metrics(std::shared_ptr<prometheus::Registry> registry = nullptr);

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> registry_ptr() { return registry_; }
  // The registry as Prometheus text exposition format.
  std::string serialize() const;

  prometheus::Counter& pulls(std::string_view result);
  // One Cost Explorer request of `operation` (GetCostAndUsage, ...) by result.
  prometheus::Counter& ce_requests(std::string_view operation, std::string_view result);
  prometheus::Histogram& ce_request_duration() { return *ce_request_duration_; }
  prometheus::Counter& events(std::string_view result);
  prometheus::Counter& delivery_attempts(std::string_view result);
  prometheus::Histogram& delivery_duration() { return *delivery_duration_; }
  prometheus::Gauge& deliveries_in_flight() { return *in_flight_; }
  prometheus::Gauge& last_successful_pull() { return *last_success_; }
  prometheus::Gauge& checkpoint() { return *checkpoint_; }
  prometheus::Gauge& ready() { return *ready_; }
  prometheus::Counter& credential_refreshes(std::string_view result);
  // A spawned coroutine that ended with an exception; `task` is a fixed name per coroutine kind.
  prometheus::Counter& task_failures(std::string_view task);
  prometheus::Counter& http_requests(std::string_view path);
  prometheus::Counter& events_skipped(std::string_view reason);
  // A daily forecast or anomaly check that failed (the request, or the delivery of its events).
  prometheus::Counter& insight_errors(std::string_view kind);
  // The acknowledgement journal: records appended, group commits (fdatasync) and their duration.
  prometheus::Counter& journal_records() { return *journal_records_; }
  prometheus::Counter& journal_fsyncs() { return *journal_fsyncs_; }
  prometheus::Histogram& journal_fsync_duration() { return *journal_fsync_duration_; }

  // The cost gauge: one family whose labels are the group-by label names plus metric and unit.
  // Replaces every series with the given values (the last pull's costs).
  struct CostSample {
    std::vector<std::string> group_values;  // one per label in `group_labels`
    std::string metric;
    std::string unit;
    double amount = 0;
  };
  void set_costs(const std::vector<std::string>& group_labels,
                 const std::vector<CostSample>& samples);

  // aws_billing_source_account_info{linked_account, name} 1: an account's name once, rather
  // than a label on every cost series. A renamed account replaces its series.
  void set_account_name(const std::string& account, const std::string& name);

 private:
  template <class Family, class Metric>
  Metric& labelled(Family& family, std::map<std::string, Metric*, std::less<>>& cache,
                   std::string_view label, std::string_view value);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* pulls_;
  prometheus::Family<prometheus::Counter>* ce_requests_;
  prometheus::Family<prometheus::Counter>* events_;
  prometheus::Family<prometheus::Counter>* attempts_;
  prometheus::Family<prometheus::Counter>* credentials_;
  prometheus::Family<prometheus::Counter>* task_failures_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Counter>* skipped_;
  prometheus::Family<prometheus::Counter>* insight_errors_;
  prometheus::Counter* journal_records_;
  prometheus::Counter* journal_fsyncs_;
  prometheus::Histogram* journal_fsync_duration_;
  prometheus::Family<prometheus::Gauge>* cost_ = nullptr;
  prometheus::Family<prometheus::Gauge>* account_info_;
  std::map<std::string, std::pair<std::string, prometheus::Gauge*>, std::less<>> account_names_;
  prometheus::Histogram* ce_request_duration_;
  prometheus::Histogram* delivery_duration_;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* last_success_;
  prometheus::Gauge* checkpoint_;
  prometheus::Gauge* ready_;
  std::map<std::string, prometheus::Counter*, std::less<>> pulls_by_, ce_by_, events_by_,
      attempts_by_, credentials_by_, task_failures_by_, http_by_, skipped_by_, insight_errors_by_;
};

// Keeps the `limit` samples with the largest amounts (ties by input order), in input order, so
// that an organization's thousands of groups never become thousands of series. Returns how many
// were dropped.
std::size_t keep_largest_costs(std::vector<Metrics::CostSample>& samples, std::size_t limit);

// Prometheus label names: SERVICE -> service, LINKED_ACCOUNT -> linked_account; a TAG or cost
// category name is sanitized to [a-zA-Z0-9_].
std::string label_name(std::string_view type, std::string_view key);

}  // namespace sab::metrics
