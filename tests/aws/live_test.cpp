// Live drivers for the AWS integration tests. How these run:
//
//   The python tests tests/integration/test_aws_*.py start the real peers (moto's server, a
//   botocore-checking capture server), prepare them (IAM user and key, seeded Cost Explorer
//   results), then run this binary as
//     unit_tests --no-skip -tc='aws live: ...'
//   with SAB_LIVE_* environment variables naming the endpoint and credentials. Each case prints
//   one result line (LIVE-RESULT / LIVE-ERROR / LIVE-CREDS, JSON) that the python test checks
//   against what it seeded.
//
// The cases are decorated with doctest::skip(): a plain unit_tests / ctest run does not run them
// (they need the peers), and the python tests fail when they cannot start the peers under CI=true.

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "aws/ce_client.hpp"
#include "aws/credential_chain.hpp"
#include "aws/credentials.hpp"
#include "common/dates.hpp"
#include "common/json.hpp"
#include "metrics/metrics.hpp"
#include "net/http_client.hpp"
#include "support/run_coroutine.hpp"

namespace asio = boost::asio;
using namespace sab;

namespace {

std::string env(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : std::string(v);
}

template <class F>
void run(asio::io_context& ioc, F make) {
  test::run_coroutine(ioc, std::move(make), std::chrono::seconds(60));
}

// Prints every group (or total) of every page as JSON.
std::string result_json(const std::vector<std::vector<common::CostPeriod>>& pages) {
  std::string out = "{\"pages\":" + std::to_string(pages.size()) + ",\"rows\":[";
  bool first = true;
  for (const auto& page : pages) {
    for (const auto& period : page) {
      auto row = [&](const std::vector<std::string>& keys,
                     const std::vector<common::MetricValue>& metrics) {
        for (const auto& m : metrics) {
          if (!first) out += ",";
          first = false;
          out += "[";
          common::append_json_string(out, common::format_date(period.start));
          for (const auto& k : keys) {
            out += ",";
            common::append_json_string(out, k);
          }
          out += ",";
          common::append_json_string(out, m.name);
          out += ",";
          common::append_json_string(out, m.amount);
          out += ",";
          common::append_json_string(out, m.unit);
          out += "]";
        }
      };
      for (const auto& g : period.groups)
        row(g.keys, g.metrics);
      if (period.groups.empty()) row({}, period.total);
    }
  }
  return out + "]}";
}

}  // namespace

TEST_CASE("aws live: Cost Explorer fetch" * doctest::skip()) {
  const std::string endpoint = env("SAB_LIVE_CE_ENDPOINT");
  REQUIRE_MESSAGE(!endpoint.empty(), "run by tests/integration/test_aws_*.py");
  config::Config config;
  config.endpoint = endpoint;
  config.region = env("SAB_LIVE_REGION", "us-east-1");
  config.metrics = {"UnblendedCost", "AmortizedCost"};
  if (const auto limit = env("SAB_LIVE_MAX_RESPONSE_BYTES"); !limit.empty()) {
    config.max_response_bytes = std::stoull(limit);
  }
  const auto start = common::parse_date(env("SAB_LIVE_START", "2023-01-15"));
  const auto end = common::parse_date(env("SAB_LIVE_END", "2023-01-16"));
  REQUIRE(start);
  REQUIRE(end);
  aws::Credentials creds{env("SAB_LIVE_ACCESS_KEY_ID"), env("SAB_LIVE_SECRET_ACCESS_KEY"),
                         env("SAB_LIVE_SESSION_TOKEN"), std::nullopt};
  asio::io_context ioc;
  metrics::Metrics metrics;
  aws::CeClientOptions options;
  options.retry = {1, std::chrono::milliseconds{10}, std::chrono::milliseconds{20}};
  options.tls.ca_file = env("SAB_LIVE_CA_FILE");
  aws::CostExplorerClient client(ioc.get_executor(), config,
                                 std::make_shared<aws::StaticCredentialProvider>(creds), metrics,
                                 options);
  // SAB_LIVE_SUMMARY: keep nothing, print counts only (for very large responses).
  const bool summary = !env("SAB_LIVE_SUMMARY").empty();
  std::vector<std::vector<common::CostPeriod>> pages;
  std::size_t page_count = 0, group_count = 0;
  std::string last_amount;
  try {
    run(ioc, [&] {
      return client.fetch({*start, *end},
                          [&](std::vector<common::CostPeriod>&& p) -> asio::awaitable<void> {
                            ++page_count;
                            for (const auto& period : p) {
                              group_count += period.groups.size();
                              if (!period.groups.empty() && !period.groups.back().metrics.empty()) {
                                last_amount = period.groups.back().metrics.back().amount;
                              }
                            }
                            if (!summary) pages.push_back(std::move(p));
                            co_return;
                          });
    });
    if (summary) {
      std::string line = "LIVE-SUMMARY {\"pages\":" + std::to_string(page_count) +
                         ",\"groups\":" + std::to_string(group_count) + ",\"last_amount\":";
      common::append_json_string(line, last_amount);
      std::cout << line << "}" << std::endl;
    } else {
      std::cout << "LIVE-RESULT " << result_json(pages) << std::endl;
    }
  } catch (const aws::CostExplorerError& e) {
    std::string line = "LIVE-ERROR {\"kind\":";
    common::append_json_string(line, aws::to_string(e.kind()));
    line += ",\"message\":";
    common::append_json_string(line, e.what());
    std::cout << line << "}" << std::endl;
  }
  std::cout << "LIVE-REQUESTS " << client.requests_sent() << std::endl;
}

TEST_CASE("aws live: https GET" * doctest::skip()) {
  // One GET through net::HttpClient with the CA file given: TLS verification as the Cost
  // Explorer client uses it.
  const auto url = net::parse_url(env("SAB_LIVE_URL"));
  REQUIRE_MESSAGE(url, "run by tests/integration/test_aws_tls.py");
  asio::io_context ioc;
  std::string line;
  try {
    auto tls = net::make_client_tls_context({env("SAB_LIVE_CA_FILE"), false});
    net::HttpClient client(ioc.get_executor(), *url, tls);
    net::Response resp;
    run(ioc, [&]() -> asio::awaitable<void> {
      net::Request req;
      req.method(boost::beast::http::verb::get);
      req.target(url->target);
      resp = co_await client.send(std::move(req), std::chrono::seconds(20), 1 << 20);
    });
    line = "LIVE-HTTP {\"status\":" + std::to_string(resp.result_int()) + "}";
  } catch (const net::TransportError& e) {
    line = "LIVE-ERROR {\"kind\":";
    common::append_json_string(line, net::to_string(e.kind()));
    line += ",\"message\":";
    common::append_json_string(line, e.what());
    line += "}";
  }
  std::cout << line << std::endl;
}

TEST_CASE("aws live: credential chain" * doctest::skip()) {
  // The chain reads the real process environment (AWS_* set by the python test).
  config::Config config;
  config.region = env("SAB_LIVE_REGION", "us-east-1");
  config.role_arn = env("SAB_LIVE_ROLE_ARN");
  config.external_id = env("SAB_LIVE_EXTERNAL_ID");
  asio::io_context ioc;
  metrics::Metrics metrics;
  // The provider's clock can be moved forward to check the refresh before expiry.
  std::chrono::seconds offset{0};
  aws::ChainOptions options;
  options.clock = [&offset] { return std::chrono::system_clock::now() + offset; };
  options.sts_retry = {1, std::chrono::milliseconds{10}, std::chrono::milliseconds{20}};
  aws::ChainCredentialProvider provider(ioc.get_executor(), config, config::process_env(), &metrics,
                                        options);
  std::string line;
  try {
    aws::Credentials first, second, third;
    bool advanced = false;
    std::string after_expiry_error;
    run(ioc, [&]() -> asio::awaitable<void> {
      first = co_await provider.get();
      second = co_await provider.get();  // cached: no second STS call
      if (first.expiration) {
        // 4 minutes before expiry: inside the 5-minute margin, so the next get() refreshes.
        offset = std::chrono::duration_cast<std::chrono::seconds>(
            *first.expiration - std::chrono::system_clock::now() - std::chrono::minutes(4));
        advanced = true;
        // SAB_LIVE_BREAK_REFRESH: the token file disappears first, so the refresh fails and the
        // current credentials must still serve until they expire.
        if (!env("SAB_LIVE_BREAK_REFRESH").empty()) {
          std::filesystem::remove(env("AWS_WEB_IDENTITY_TOKEN_FILE"));
        }
        third = co_await provider.get();
        if (!env("SAB_LIVE_BREAK_REFRESH").empty()) {
          offset += std::chrono::minutes(5);  // now past the expiry
          try {
            (void)co_await provider.get();
          } catch (const aws::CredentialError& e) {
            after_expiry_error = e.what();
          }
        }
      }
    });
    line = "LIVE-CREDS {\"access_key_id\":";
    common::append_json_string(line, first.access_key_id);
    line += ",\"has_secret\":" + std::string(first.secret_access_key.empty() ? "false" : "true");
    line += ",\"has_token\":" + std::string(first.session_token.empty() ? "false" : "true");
    line += ",\"expires\":" + std::string(first.expiration ? "true" : "false");
    line += ",\"cached\":" +
            std::string(second.access_key_id == first.access_key_id ? "true" : "false");
    line += ",\"refreshed_key\":";
    common::append_json_string(line, advanced ? third.access_key_id : "");
    line += ",\"after_expiry_error\":";
    common::append_json_string(line, after_expiry_error);
  } catch (const aws::CredentialError& e) {
    line = "LIVE-CREDS {\"error\":";
    common::append_json_string(line, e.what());
  }
  line += ",\"refresh_success\":" +
          std::to_string(static_cast<int>(metrics.credential_refreshes("success").Value()));
  line += ",\"refresh_failure\":" +
          std::to_string(static_cast<int>(metrics.credential_refreshes("failure").Value()));
  std::cout << line << "}" << std::endl;
}
