#pragma once

// Cost Explorer GetCostAndUsage, the pure half: the request body, a response page, the error
// answers and their classification. No I/O.

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/cost.hpp"
#include "config/config.hpp"

namespace sab::aws {

inline constexpr std::string_view kCeContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kCeService = "ce";

// A half-open range of UTC days: [start, end).
struct TimePeriod {
  std::chrono::sys_days start;
  std::chrono::sys_days end;  // exclusive, as the API wants it
  bool operator==(const TimePeriod&) const = default;
};

// The JSON request body: TimePeriod, Granularity, Metrics, GroupBy, Filter (config.filter_json
// passed through unchanged), NextPageToken (when not empty). Throws std::invalid_argument when
// the period is empty or the filter is not valid JSON.
std::string build_request_body(const config::Config& config, const TimePeriod& period,
                               std::string_view next_page_token = {});

// A response page that cannot be understood (malformed, truncated, missing fields).
class ResponseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Page {
  std::vector<common::CostPeriod> periods;
  std::string next_page_token;  // empty on the last page
};

// Parses one GetCostAndUsage response with simdjson On-Demand. `body` gets SIMDJSON_PADDING bytes
// of extra capacity (its contents are unchanged), so the parser needs no copy of it. Amounts and
// units are kept as the exact strings of the response. Throws ResponseError.
Page parse_page(std::string& body);

// --- errors ----------------------------------------------------------------------------------

struct AwsError {
  unsigned status = 0;
  std::string type;  // normalized: no "prefix#", no ":suffix"; empty when unknown
  std::string message;
};

// "com.amazonaws.ce#ThrottlingException:http://..." -> "ThrottlingException".
std::string normalize_error_type(std::string_view raw);

// The error of a non-2xx answer: type from the x-amzn-ErrorType header, else `__type` (or
// `code`) in a JSON body, else <Code> in an XML body (moto); message from message / Message /
// <Message>. Never throws; a body it cannot read leaves type/message empty.
AwsError parse_error(unsigned status, std::string_view error_type_header, std::string_view body);

enum class ErrorClass {
  throttling,  // LimitExceededException, ThrottlingException, 429: retry with backoff
  server,      // 5xx: retry with backoff
  auth,        // bad or expired credentials, access denied: fail at once
  restart,     // InvalidNextTokenException, RequestChangedException: restart the period
  client,      // any other 4xx: fail at once
};
std::string_view to_string(ErrorClass c);
ErrorClass classify(const AwsError& error);

}  // namespace sab::aws
