#include "aws/ce_client.hpp"

#include <openssl/crypto.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>

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

struct CostExplorerClient::PageResult {
  bool restart = false;
  Page page;
};

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
  http_ = std::make_unique<net::HttpClient>(executor_, url_, std::move(tls));
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
      PageResult result = co_await request_page(body, restarted);
      if (result.restart) {
        restart = true;
        break;
      }
      if (!result.page.next_page_token.empty() && result.page.next_page_token == token) {
        throw CostExplorerError(CeErrorKind::bad_response,
                                "Cost Explorer returned the same NextPageToken twice");
      }
      token = std::move(result.page.next_page_token);
      co_await on_page(std::move(result.page.periods));
    } while (!token.empty());
    if (!restart) co_return;
    restarted = true;
    log::warn(
        "Cost Explorer paging token no longer valid; restarting the period",
        {{"start", common::format_date(period.start)}, {"end", common::format_date(period.end)}});
  }
}

asio::awaitable<CostExplorerClient::PageResult> CostExplorerClient::request_page(
    const std::string& body, bool restarted) {
  bool refreshed_credentials = false;
  int bad_response_retries = 0;
  for (int retries = 0;;) {
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
    req.set("X-Amz-Target", kCeTarget);
    req.body() = body;
    sign(req, creds, config_.region, kCeService, options_.clock());
    const std::string access_key_id = creds.access_key_id;
    wipe(creds);

    FailureKind failure{};
    std::string detail;
    AwsError aws_error;
    const auto started = std::chrono::steady_clock::now();
    ++requests_sent_;
    try {
      net::Response resp = co_await http_->send(std::move(req), options_.request_timeout,
                                                config_.max_response_bytes);
      const auto status = static_cast<unsigned>(resp.result_int());
      metrics_.ce_request_duration().Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      if (status / 100 == 2) {
        try {
          PageResult out;
          out.page = parse_page(resp.body());
          metrics_.ce_requests("success").Increment();
          log::debug("Cost Explorer page received", {{"bytes", resp.body().size()},
                                                     {"periods", out.page.periods.size()},
                                                     {"more", !out.page.next_page_token.empty()}});
          co_return out;
        } catch (const ResponseError& e) {
          failure = FailureKind::bad_response;
          detail = e.what();
        }
      } else {
        auto header = resp.find("x-amzn-ErrorType");
        aws_error = parse_error(
            status, header == resp.end() ? std::string_view{} : std::string_view(header->value()),
            resp.body());
        detail = "HTTP " + std::to_string(status) +
                 (aws_error.type.empty() ? std::string() : " " + aws_error.type) +
                 (aws_error.message.empty() ? std::string() : ": " + aws_error.message);
        switch (classify(aws_error)) {
          case ErrorClass::throttling:
            failure = FailureKind::throttled;
            break;
          case ErrorClass::server:
            failure = FailureKind::server_error;
            break;
          case ErrorClass::auth:
            failure = FailureKind::auth_error;
            break;
          case ErrorClass::restart:
            failure = FailureKind::restart;
            break;
          case ErrorClass::client:
            failure = FailureKind::client_error;
            break;
        }
      }
    } catch (const net::TransportError& e) {
      metrics_.ce_request_duration().Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      detail = e.what();
      failure = (e.kind() == net::TransportErrorKind::tls ||
                 e.kind() == net::TransportErrorKind::too_large)
                    ? FailureKind::permanent_transport
                    : FailureKind::transport_error;
      if (e.kind() == net::TransportErrorKind::too_large) {
        detail += " (max_response_bytes)";
      }
    }
    metrics_.ce_requests(metric_result(failure)).Increment();

    // Temporary credentials that expired under us: fetch new ones once and try again.
    if (failure == FailureKind::auth_error && is_expired_token(aws_error) &&
        !refreshed_credentials) {
      refreshed_credentials = true;
      credentials_->invalidate();
      log::warn("Cost Explorer says the credentials expired; refreshing them",
                {{"access_key_id", access_key_id}});
      continue;
    }
    switch (next_action(options_.retry, failure, retries, restarted, bad_response_retries)) {
      case Action::restart: {
        PageResult out;
        out.restart = true;
        co_return out;
      }
      case Action::fail:
        if (failure == FailureKind::auth_error) {
          throw CostExplorerError(CeErrorKind::auth,
                                  "Cost Explorer rejected the credentials of "
                                  "access key id " +
                                      access_key_id + " (" + detail + ")");
        }
        if (failure == FailureKind::restart) {
          throw CostExplorerError(
              CeErrorKind::client,
              "Cost Explorer paging failed again after a restart (" + detail + ")");
        }
        throw CostExplorerError(
            error_kind(failure),
            "Cost Explorer request failed" +
                (retries > 0 ? " after " + std::to_string(retries + 1) + " attempts"
                             : std::string()) +
                ": " + detail);
      case Action::retry:
        break;
    }
    const auto delay = backoff_delay(options_.retry, retries, options_.random());
    ++retries;
    if (failure == FailureKind::bad_response) ++bad_response_retries;
    log::warn("Cost Explorer request failed; retrying",
              {{"result", metric_result(failure)},
               {"error", detail},
               {"retry", retries},
               {"delay_ms", static_cast<std::int64_t>(delay.count())}});
    asio::steady_timer timer(executor_, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace sab::aws
