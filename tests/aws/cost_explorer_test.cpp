// Cost Explorer pure parts: request body, response pages (every truncation of a page is a clear
// error), error answers in their spellings, and their classification.

#include "aws/cost_explorer.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "common/dates.hpp"

using namespace sab;
using namespace std::chrono;

namespace {

sys_days d(int y, unsigned m, unsigned dd) {
  return sys_days{year{y} / month{m} / day{dd}};
}

const char* kPage = R"({
  "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
  "ResultsByTime": [
    {"TimePeriod": {"Start": "2023-01-15", "End": "2023-01-16"},
     "Total": {},
     "Groups": [
       {"Keys": ["CloudWatch Events"],
        "Metrics": {"AmortizedCost": {"Amount": "0.0009189721", "Unit": "USD"},
                    "UnblendedCost": {"Amount": "1.10000000000000000001", "Unit": "USD"}}},
       {"Keys": ["Amazon \"Simple\" Storage\u0020Service"],
        "Metrics": {"AmortizedCost": {"Amount": "-0", "Unit": "USD"}}}
     ],
     "Estimated": true},
    {"Estimated": false, "Groups": [],
     "Total": {"BlendedCost": {"Amount": "12.5", "Unit": "USD"}},
     "TimePeriod": {"End": "2023-01-17", "Start": "2023-01-16"}}
  ],
  "DimensionValueAttributes": [{"Value": "v", "Attributes": {"a": "b"}}],
  "NextPageToken": "tok\/en=="
})";

}  // namespace

TEST_CASE("cost explorer: request body from the config") {
  config::Config c;
  auto body = aws::build_request_body(c, {d(2023, 1, 15), d(2023, 1, 16)});
  CHECK(body == R"({"TimePeriod":{"Start":"2023-01-15","End":"2023-01-16"},"Granularity":"DAILY",)"
                R"("Metrics":["AmortizedCost","BlendedCost","NetAmortizedCost","NetUnblendedCost",)"
                R"("UnblendedCost"],"GroupBy":[{"Type":"DIMENSION","Key":"SERVICE"}]})");
  c.granularity = config::Granularity::monthly;
  c.metrics = {"UsageQuantity"};
  c.group_by = {{"TAG", "team"}, {"DIMENSION", "LINKED_ACCOUNT"}};
  c.filter_json = R"({"Dimensions":{"Key":"REGION","Values":["eu-west-1"]}})";
  body = aws::build_request_body(c, {d(2023, 1, 1), d(2023, 2, 1)}, "next\"token");
  const auto v = boost::json::parse(body).as_object();
  CHECK(v.at("Granularity") == "MONTHLY");
  CHECK(v.at("TimePeriod").at("End") == "2023-02-01");
  CHECK(v.at("GroupBy").as_array().size() == 2);
  CHECK(v.at("GroupBy").at(0).at("Type") == "TAG");
  CHECK(v.at("Filter") == boost::json::parse(c.filter_json));
  CHECK(v.at("NextPageToken") == "next\"token");
  CHECK_THROWS_AS(aws::build_request_body(c, {d(2023, 1, 2), d(2023, 1, 2)}),
                  std::invalid_argument);
  c.filter_json = "{nope";
  CHECK_THROWS_AS(aws::build_request_body(c, {d(2023, 1, 1), d(2023, 1, 2)}),
                  std::invalid_argument);
}

TEST_CASE("cost explorer: days") {
  CHECK(common::format_date(d(2023, 1, 5)) == "2023-01-05");
  CHECK(common::parse_date("2024-02-29") == d(2024, 2, 29));
  CHECK_FALSE(common::parse_date("2023-02-29"));
  CHECK_FALSE(common::parse_date("2023-1-05"));
  CHECK_FALSE(common::parse_date("2023-01-05T"));
  CHECK_FALSE(common::parse_date(""));
}

TEST_CASE("cost explorer: a response page, amounts verbatim") {
  std::string body = kPage;
  const auto page = aws::parse_page(body);
  CHECK(body == kPage);  // contents untouched
  REQUIRE(page.periods.size() == 2);
  const auto& p0 = page.periods[0];
  CHECK(p0.start == d(2023, 1, 15));
  CHECK(p0.end == d(2023, 1, 16));
  CHECK(p0.estimated);
  REQUIRE(p0.groups.size() == 2);
  CHECK(p0.groups[0].keys == std::vector<std::string>{"CloudWatch Events"});
  REQUIRE(p0.groups[0].metrics.size() == 2);
  CHECK(p0.groups[0].metrics[0].name == "AmortizedCost");
  CHECK(p0.groups[0].metrics[0].amount == "0.0009189721");
  CHECK(p0.groups[0].metrics[0].unit == "USD");
  CHECK(p0.groups[0].metrics[1].amount == "1.10000000000000000001");
  CHECK(p0.groups[1].keys[0] == "Amazon \"Simple\" Storage Service");
  CHECK(p0.groups[1].metrics[0].amount == "-0");
  CHECK(p0.total.empty());
  const auto& p1 = page.periods[1];
  CHECK_FALSE(p1.estimated);
  CHECK(p1.start == d(2023, 1, 16));
  CHECK(p1.groups.empty());
  REQUIRE(p1.total.size() == 1);
  CHECK(p1.total[0].name == "BlendedCost");
  CHECK(p1.total[0].amount == "12.5");
  CHECK(page.next_page_token == "tok/en==");

  std::string last = R"({"ResultsByTime":[],"NextPageToken":null})";
  CHECK(aws::parse_page(last).next_page_token.empty());
  std::string empty = R"({"ResultsByTime":[]})";
  CHECK(aws::parse_page(empty).periods.empty());
}

TEST_CASE("cost explorer: every truncation of a page is an error, never a crash") {
  const std::string full = kPage;
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::string body = full.substr(0, n);
    // The closing brace may be preceded only by whitespace: those prefixes are still truncated.
    CAPTURE(n);
    CHECK_THROWS_AS(aws::parse_page(body), aws::ResponseError);
  }
}

TEST_CASE("cost explorer: malformed pages are clear errors") {
  for (std::string body : {
           std::string(""),
           std::string("[]"),
           std::string("<html>oops</html>"),
           std::string(R"({"ResultsByTime":{}})"),
           std::string(R"({"ResultsByTime":[{"TimePeriod":{"Start":"2023-13-01","End":"x"}}]})"),
           std::string(R"({"ResultsByTime":[{"Groups":[]}]})"),
           std::string(
               R"({"ResultsByTime":[{"TimePeriod":{"Start":"2023-01-01","End":"2023-01-02"},)"
               R"("Groups":[{"Keys":[1],"Metrics":{}}]}]})"),
           std::string(
               R"({"ResultsByTime":[{"TimePeriod":{"Start":"2023-01-01","End":"2023-01-02"},)"
               R"("Total":{"X":{"Amount":1.5,"Unit":"USD"}}}]})"),
           std::string(R"({"NextPageToken":"x"})"),
           std::string(R"({"ResultsByTime":[],"NextPageToken":5})"),
           std::string("{\"ResultsByTime\":[\xff]}"),
       }) {
    CAPTURE(body);
    CHECK_THROWS_AS(aws::parse_page(body), aws::ResponseError);
  }
}

TEST_CASE("cost explorer: a group metric without Amount or Unit is an error, not an event") {
  // Found by the bad-input integration test: such a page gave events with "amount":"" and the
  // day's checkpoint moved past it.
  const std::string head =
      R"({"ResultsByTime":[{"TimePeriod":{"Start":"2023-01-01","End":"2023-01-02"},"Groups":[)"
      R"({"Keys":["S3"],"Metrics":{"UnblendedCost":)";
  std::string no_amount = head + R"({"Unit":"USD"}}}]}]})";
  CHECK_THROWS_WITH_AS(aws::parse_page(no_amount),
                       doctest::Contains("metric 'UnblendedCost' of a group has no Amount"),
                       aws::ResponseError);
  std::string no_unit = head + R"({"Amount":"1.5"}}}]}]})";
  CHECK_THROWS_WITH_AS(aws::parse_page(no_unit), doctest::Contains("has no Unit"),
                       aws::ResponseError);
  std::string empty_metric = head + R"({}}}]}]})";
  CHECK_THROWS_AS(aws::parse_page(empty_metric), aws::ResponseError);
  // A Total without amounts (as Cost Explorer sends with GroupBy) is still fine.
  std::string total = R"({"ResultsByTime":[{"TimePeriod":{"Start":"2023-01-01","End":)"
                      R"("2023-01-02"},"Total":{"X":{}},"Groups":[]}]})";
  CHECK(aws::parse_page(total).periods.size() == 1);
}

TEST_CASE("cost explorer: error answers in every spelling") {
  auto e =
      aws::parse_error(400, "", R"({"__type":"LimitExceededException","message":"slow down"})");
  CHECK(e.type == "LimitExceededException");
  CHECK(e.message == "slow down");
  CHECK(aws::classify(e) == aws::ErrorClass::throttling);

  e = aws::parse_error(400, "",
                       R"({"__type":"com.amazonaws.ce#ThrottlingException","Message":"x"})");
  CHECK(e.type == "ThrottlingException");
  CHECK(e.message == "x");
  e = aws::parse_error(
      400, "", R"({"__type":"aws.ce#InvalidNextTokenException:http://internal.amazon.com/x"})");
  CHECK(e.type == "InvalidNextTokenException");
  CHECK(aws::classify(e) == aws::ErrorClass::restart);
  e = aws::parse_error(400, "RequestChangedException:http://internal.amazon.com/", "{}");
  CHECK(e.type == "RequestChangedException");
  CHECK(aws::classify(e) == aws::ErrorClass::restart);
  // The header wins over the body.
  e = aws::parse_error(400, "UnrecognizedClientException", R"({"__type":"Other"})");
  CHECK(e.type == "UnrecognizedClientException");
  CHECK(aws::classify(e) == aws::ErrorClass::auth);

  // moto's XML answers
  e = aws::parse_error(403, "",
                       "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>"
                       "SignatureDoesNotMatch</Code><Message>The request signature we calculated "
                       "does not match &amp; more</Message></Error></Errors></ErrorResponse>");
  CHECK(e.type == "SignatureDoesNotMatch");
  CHECK(e.message == "The request signature we calculated does not match & more");
  CHECK(aws::classify(e) == aws::ErrorClass::auth);

  for (const char* t : {"InvalidClientTokenId", "AccessDeniedException", "ExpiredTokenException"}) {
    CHECK(aws::classify({400, t, ""}) == aws::ErrorClass::auth);
  }
  CHECK(aws::classify({429, "", ""}) == aws::ErrorClass::throttling);
  CHECK(aws::classify({500, "", ""}) == aws::ErrorClass::server);
  CHECK(aws::classify({503, "ServiceUnavailable", ""}) == aws::ErrorClass::server);
  CHECK(aws::classify({400, "ValidationException", ""}) == aws::ErrorClass::client);
  CHECK(aws::classify({403, "", ""}) == aws::ErrorClass::auth);
  CHECK(aws::classify({404, "", ""}) == aws::ErrorClass::client);

  // Unreadable bodies never throw.
  e = aws::parse_error(502, "", "<html><body>Bad gateway</body>");
  CHECK(e.type.empty());
  e = aws::parse_error(500, "", "{\"__type\": \"trunc");
  CHECK(e.status == 500);
  CHECK(aws::classify(e) == aws::ErrorClass::server);
  CHECK(aws::normalize_error_type(" a.b#C:d ") == "C");
}

TEST_CASE("cost explorer: mutated pages and error bodies never crash the parsers") {
  // Deterministic pseudo-random byte edits of a valid page: each parse either succeeds or throws
  // ResponseError; parse_error never throws.
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string full = kPage;
  const char alphabet[] = "{}[]\":,\\0123456789.-eEtrufalsn \x01\xff\xc3";
  int ok = 0, rejected = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string body = full;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = next() % body.size();
      switch (next() % 3) {
        case 0:
          body[pos] = alphabet[next() % (sizeof alphabet - 1)];
          break;
        case 1:
          body.erase(pos, 1 + next() % 8);
          break;
        default:
          body.insert(pos, 1, alphabet[next() % (sizeof alphabet - 1)]);
      }
      if (body.empty()) body = "{";
    }
    try {
      (void)aws::parse_page(body);
      ++ok;
    } catch (const aws::ResponseError&) {
      ++rejected;
    }
    const auto err = aws::parse_error(400, "", body);
    (void)aws::classify(err);
  }
  CHECK(ok + rejected == 5000);
  CHECK(rejected > 0);
}

TEST_CASE("cost explorer: account names from the page's DimensionValueAttributes") {
  std::string body = R"({
  "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                       {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
  "ResultsByTime": [{"TimePeriod": {"Start": "2023-01-15", "End": "2023-01-16"}, "Groups": [
    {"Keys": ["Amazon S3", "111111111111"], "Metrics": {}},
    {"Keys": ["Amazon S3", "222222222222"], "Metrics": {}},
    {"Keys": ["Amazon S3", "333333333333"], "Metrics": {}}], "Estimated": false}],
  "DimensionValueAttributes": [
    {"Value": "222222222222", "Attributes": {"description": "Payer \"main\""}},
    {"Value": "111111111111", "Attributes": {"description": "Dev"}},
    {"Value": "444444444444", "Attributes": {}}]
})";
  const auto page = aws::parse_page(body);
  REQUIRE(page.periods.size() == 1);
  const auto& groups = page.periods[0].groups;
  CHECK(groups[0].account_name == "Dev");
  CHECK(groups[1].account_name == "Payer \"main\"");
  CHECK(groups[2].account_name.empty());  // a name may be missing

  // Without LINKED_ACCOUNT among the definitions, no group gets a name.
  std::string service_only = kPage;
  const auto plain = aws::parse_page(service_only);
  for (const auto& period : plain.periods) {
    for (const auto& g : period.groups)
      CHECK(g.account_name.empty());
  }
}
