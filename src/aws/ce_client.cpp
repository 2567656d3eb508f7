#include "aws/ce_client.hpp"

#include <openssl/crypto.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <optional>

#include "aws/sigv4.hpp"
#include "common/dates.hpp"
#include "common/log.hpp"
#include "metrics/metrics.hpp"

namespace sab::aws {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string_view to_string(CeErrorKind kind) {
  switch (kind) {
    case CeErrorKind::auth:
      return "auth";
    case CeErrorKind::credentials:
      return "credentials";
    case CeErrorKind::client:
      return "client";
    case CeErrorKind::throttled:
      return "throttled";
    case CeErrorKind::server:
      return "server";
    case CeErrorKind::transport:
      return "transport";
    case CeErrorKind::bad_response:
      return "bad_response";
  }
  return "client";
}

namespace {

CeErrorKind error_kind(FailureKind kind) {
  switch (kind) {
    case FailureKind::throttled:
      return CeErrorKind::throttled;
    case FailureKind::server_error:
      return CeErrorKind::server;
    case FailureKind::transport_error:
    case FailureKind::permanent_transport:
      return CeErrorKind::transport;
    case FailureKind::bad_response:
      return CeErrorKind::bad_response;
    case FailureKind::auth_error:
      return CeErrorKind::auth;
    case FailureKind::client_error:
    case FailureKind::restart:
      return CeErrorKind::client;
  }
  return CeErrorKind::client;
}

bool is_expired_token(const AwsError& e) {
  return e.type == "ExpiredTokenException" || e.type == "ExpiredToken";
}

}  // namespace

CostExplorerClient::CostExplorerClient(asio::any_io_executor executor, const config::Config& config,
                                       std::shared_ptr<CredentialProvider> credentials,
                                       metrics::Metrics& metrics, CeClientOptions options)
    : executor_(std::move(executor)),
      config_(config),
      credentials_(std::move(credentials)),
      metrics_(metrics),
      options_(std::move(options)) {
  auto url = net::parse_url(config_.endpoint);
  if (!url) throw std::invalid_argument("endpoint: not an http(s) URL: '" + config_.endpoint + "'");
  url_ = *url;
  if (!options_.random) options_.random = default_random();
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  std::shared_ptr<asio::ssl::context> tls;
  if (url_.tls) tls = net::make_client_tls_context(options_.tls);
  http_ = std::make_unique<net::HttpClient>(executor_, url_, std::move(tls),
                                            options_.proxies.for_origin(url_));
}

CostExplorerClient::~CostExplorerClient() = default;

asio::awaitable<void> CostExplorerClient::fetch(TimePeriod period, PageHandler on_page) {
  bool restarted = false;
  for (;;) {
    std::string token;
    bool restart = false;
    std::size_t pages = 0;
    do {
      if (++pages > options_.max_pages) {
        throw CostExplorerError(CeErrorKind::bad_response,
                                "Cost Explorer paging did not end after " +
                                    std::to_string(options_.max_pages) + " pages");
      }
      std::string body;
      try {
        body = build_request_body(config_, period, token);
      } catch (const std::invalid_argument& e) {
        throw CostExplorerError(CeErrorKind::client,
                                std::string("cannot build the Cost Explorer request: ") + e.what());
      }
      Page page;
      const auto read = [&page](std::string& answer) {
        page = parse_page(answer);
        log::debug("Cost Explorer page received", {{"bytes", answer.size()},
                                                   {"periods", page.periods.size()},
                                                   {"more", !page.next_page_token.empty()}});
      };
      if (!co_await call(kGetCostAndUsage, body, read, restarted)) {
        restart = true;
        break;
      }
      if (!page.next_page_token.empty() && page.next_page_token == token) {
        throw CostExplorerError(CeErrorKind::bad_response,
                                "Cost Explorer returned the same NextPageToken twice");
      }
      token = std::move(page.next_page_token);
      co_await on_page(std::move(page.periods));
    } while (!token.empty());
    if (!restart) co_return;
    restarted = true;
    log::warn(
        "Cost Explorer paging token no longer valid; restarting the period",
        {{"start", common::format_date(period.start)}, {"end", common::format_date(period.end)}});
  }
}

namespace {

FailureKind failure_kind(ErrorClass cls) {
  switch (cls) {
    case ErrorClass::throttling:
      return FailureKind::throttled;
    case ErrorClass::server:
      return FailureKind::server_error;
    case ErrorClass::auth:
      return FailureKind::auth_error;
    case ErrorClass::restart:
      return FailureKind::restart;
    case ErrorClass::client:
      return FailureKind::client_error;
  }
  return FailureKind::client_error;
}

// The error a request that may not be retried ends the fetch with.
[[noreturn]] void throw_request_failure(std::string_view operation, FailureKind failure,
                                        const std::string& detail, const std::string& access_key_id,
                                        int retries) {
  if (failure == FailureKind::auth_error) {
    throw CostExplorerError(CeErrorKind::auth,
                            "Cost Explorer rejected the credentials of "
                            "access key id " +
                                access_key_id + " (" + detail + ")");
  }
  if (failure == FailureKind::restart) {
    throw CostExplorerError(CeErrorKind::client,
                            "Cost Explorer paging failed again after a restart (" + detail + ")");
  }
  // GetCostAndUsage keeps the words it always had; other actions are named.
  const std::string what = operation == kGetCostAndUsage
                               ? std::string("Cost Explorer request")
                               : "Cost Explorer " + std::string(operation) + " request";
  throw CostExplorerError(
      error_kind(failure),
      what + " failed" +
          (retries > 0 ? " after " + std::to_string(retries + 1) + " attempts" : std::string()) +
          ": " + detail);
}

}  // namespace

// How one signed request went: read, or the failure and what it said.
struct CostExplorerClient::Answer {
  bool read = false;
  FailureKind failure{};
  std::string detail;
  AwsError aws_error;
  std::string access_key_id;  // of the credentials that signed it, for the logs
};

asio::awaitable<bool> CostExplorerClient::call(std::string_view operation, const std::string& body,
                                               const AnswerReader& read, bool restarted) {
  bool refreshed_credentials = false;
  int bad_response_retries = 0;
  for (int retries = 0;;) {
    Answer answer = co_await send_signed(operation, body, read);
    if (answer.read) co_return true;
    metrics_.ce_requests(operation, metric_result(answer.failure)).Increment();

    // Temporary credentials that expired under us: fetch new ones once and try again.
    if (answer.failure == FailureKind::auth_error && is_expired_token(answer.aws_error) &&
        !refreshed_credentials) {
      refreshed_credentials = true;
      credentials_->invalidate();
      log::warn("Cost Explorer says the credentials expired; refreshing them",
                {{"access_key_id", answer.access_key_id}});
      continue;
    }
    const Action action =
        next_action(options_.retry, answer.failure, retries, restarted, bad_response_retries);
    if (action == Action::restart) co_return false;
    if (action == Action::fail) {
      throw_request_failure(operation, answer.failure, answer.detail, answer.access_key_id,
                            retries);
    }
    const auto delay = backoff_delay(options_.retry, retries, options_.random());
    ++retries;
    if (answer.failure == FailureKind::bad_response) ++bad_response_retries;
    log::warn("Cost Explorer request failed; retrying",
              {{"operation", operation},
               {"result", metric_result(answer.failure)},
               {"error", answer.detail},
               {"retry", retries},
               {"delay_ms", static_cast<std::int64_t>(delay.count())}});
    asio::steady_timer timer(executor_, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<CostExplorerClient::Answer> CostExplorerClient::send_signed(
    std::string_view operation, const std::string& body, const AnswerReader& read) {
  Answer answer;
  Credentials creds;
  try {
    creds = co_await credentials_->get();
  } catch (const CredentialError& e) {
    throw CostExplorerError(CeErrorKind::credentials,
                            std::string("no AWS credentials for Cost Explorer: ") + e.what());
  }
  net::Request req;
  req.method(http::verb::post);
  req.target(url_.target);
  req.set(http::field::host, url_.host_header);
  req.set(http::field::content_type, kCeContentType);
  req.set("X-Amz-Target", std::string(kCeTargetPrefix) + std::string(operation));
  req.body() = body;
  sign(req, creds, config_.region, kCeService, options_.clock());
  answer.access_key_id = creds.access_key_id;
  wipe(creds);  // the secret lives no longer than the signing

  const auto started = std::chrono::steady_clock::now();
  const auto observe_duration = [&] {
    metrics_.ce_request_duration().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };
  ++requests_sent_;
  try {
    net::Response resp =
        co_await http_->send(std::move(req), options_.request_timeout, config_.max_response_bytes);
    observe_duration();
    read_answer(operation, resp, read, answer);
  } catch (const net::TransportError& e) {
    observe_duration();
    answer.detail = e.what();
    // Neither a certificate, the size limit nor the proxy's credentials change on a retry.
    const auto kind = e.kind();
    answer.failure =
        (kind == net::TransportErrorKind::tls || kind == net::TransportErrorKind::too_large ||
         kind == net::TransportErrorKind::proxy_auth)
            ? FailureKind::permanent_transport
            : FailureKind::transport_error;
    if (e.kind() == net::TransportErrorKind::too_large) answer.detail += " (max_response_bytes)";
  }
  co_return answer;
}

void CostExplorerClient::read_answer(std::string_view operation, net::Response& resp,
                                     const AnswerReader& read, Answer& answer) {
  const auto status = static_cast<unsigned>(resp.result_int());
  if (status / 100 == 2) {
    try {
      read(resp.body());
      answer.read = true;
      metrics_.ce_requests(operation, "success").Increment();
    } catch (const ResponseError& e) {
      answer.failure = FailureKind::bad_response;
      answer.detail = e.what();
    }
    return;
  }
  auto header = resp.find("x-amzn-ErrorType");
  answer.aws_error = parse_error(
      status, header == resp.end() ? std::string_view{} : std::string_view(header->value()),
      resp.body());
  const AwsError& e = answer.aws_error;
  answer.detail = "HTTP " + std::to_string(status) +
                  (e.type.empty() ? std::string() : " " + e.type) +
                  (e.message.empty() ? std::string() : ": " + e.message);
  answer.failure = failure_kind(classify(e));
}

}  // namespace sab::aws
