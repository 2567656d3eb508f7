#pragma once

// The Cost Explorer client: signed requests over one keep-alive HTTP(S) connection; for
// GetCostAndUsage every NextPageToken followed, each page handed on as it arrives.
//
// Any other action (GetCostForecast, GetAnomalies) goes through call(): signed, retried and
// counted the same way.
// Throttling / 5xx / transport errors are retried with exponential backoff and full jitter
// (bounded); a complete 2xx answer that does not parse is retried once only (it would very
// likely be the same again, and each request is billed); the period is restarted once on
// InvalidNextToken / RequestChanged; auth errors fail at once.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aws/cost_explorer.hpp"
#include "aws/credentials.hpp"
#include "aws/insights_api.hpp"
#include "aws/retry.hpp"
#include "common/cost.hpp"
#include "config/config.hpp"
#include "net/http_client.hpp"

namespace sab::metrics {
class Metrics;
}

namespace sab::aws {

enum class CeErrorKind {
  auth,          // credentials rejected (message names the access key id)
  credentials,   // no credentials could be obtained
  client,        // a 4xx other than auth/throttling (e.g. a bad filter)
  throttled,     // still throttled after the last retry
  server,        // still 5xx after the last retry
  transport,     // no complete response after the last retry (or TLS trust failure)
  bad_response,  // an unparsable response after its one retry, or paging that does not end
};
std::string_view to_string(CeErrorKind kind);

class CostExplorerError : public std::runtime_error {
 public:
  CostExplorerError(CeErrorKind kind, const std::string& what)
      : std::runtime_error(what), kind_(kind) {}
  CeErrorKind kind() const { return kind_; }

 private:
  CeErrorKind kind_;
};

struct CeClientOptions {
  RetryPolicy retry;
  UnitRandom random;  // empty: default_random()
  std::chrono::milliseconds request_timeout{60'000};
  net::TlsConfig tls;               // for an https endpoint; default: system CAs
  net::ProxySettings proxies;       // the endpoint's proxy, if any (default: none)
  WallClock clock;                  // signing time; empty: system clock
  std::size_t max_pages = 100'000;  // a paging loop that never ends is an error
};

class CostExplorerClient {
 public:
  // Called once per response page, in order. When the period is restarted (the paging token
  // became invalid), its pages are delivered again from the first one.
  using PageHandler =
      std::function<boost::asio::awaitable<void>(std::vector<common::CostPeriod>&&)>;

  // Throws std::invalid_argument when config.endpoint is not an http(s) URL.
  CostExplorerClient(boost::asio::any_io_executor executor, const config::Config& config,
                     std::shared_ptr<CredentialProvider> credentials, metrics::Metrics& metrics,
                     CeClientOptions options = {});
  ~CostExplorerClient();

  // Every page of GetCostAndUsage for `period`. Throws CostExplorerError on final failure (kind
  // client for an empty period), and whatever on_page throws.
  boost::asio::awaitable<void> fetch(TimePeriod period, PageHandler on_page);

  // Reads a 2xx answer's body (it may be changed, e.g. padded for simdjson); throws
  // ResponseError when the answer cannot be understood (then it counts as bad_response).
  using AnswerReader = std::function<void(std::string& body)>;

  // One request of `operation` (an action name such as kGetCostForecast) with the JSON `body`,
  // retried as the policy says until `read` took a 2xx answer. Returns false when AWS says the
  // paging token of `body` is no longer valid and the listing was not `restarted` yet (the caller
  // starts it again from its first page). Throws CostExplorerError on final failure.
  boost::asio::awaitable<bool> call(std::string_view operation, const std::string& body,
                                    const AnswerReader& read, bool restarted = false);

  // Requests sent so far (each is billed by AWS).
  std::uint64_t requests_sent() const { return requests_sent_; }

 private:
  struct Answer;
  // Signs the request with the current credentials, sends it once and reads the answer.
  boost::asio::awaitable<Answer> send_signed(std::string_view operation, const std::string& body,
                                             const AnswerReader& read);
  // `read` of a 2xx answer, else the failure it means.
  void read_answer(std::string_view operation, net::Response& resp, const AnswerReader& read,
                   Answer& answer);

  boost::asio::any_io_executor executor_;
  config::Config config_;
  std::shared_ptr<CredentialProvider> credentials_;
  metrics::Metrics& metrics_;
  CeClientOptions options_;
  net::Url url_;
  std::unique_ptr<net::HttpClient> http_;
  std::uint64_t requests_sent_ = 0;
};

}  // namespace sab::aws
