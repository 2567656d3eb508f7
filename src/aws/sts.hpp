#pragma once

// STS on the wire, the pure half: the endpoint, the AssumeRole and AssumeRoleWithWebIdentity
// request bodies, and the credentials in their answers.

#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "config/config.hpp"

namespace sab::aws {

struct StsEndpoint {
  std::string url;     // e.g. https://sts.eu-west-1.amazonaws.com
  std::string region;  // signing region
};

// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional endpoint of the region:
// AWS_REGION, AWS_DEFAULT_REGION, `profile_region` (the selected profile's), the config's region,
// us-east-1 (.amazonaws.com.cn for cn-* regions).
StsEndpoint sts_endpoint(const config::Config& config, const config::Env& env,
                         std::string_view profile_region = {});

// application/x-www-form-urlencoded encoding of one value.
std::string form_encode(std::string_view value);

std::string assume_role_body(std::string_view role_arn, std::string_view session_name,
                             std::string_view external_id, int duration_seconds);
std::string web_identity_body(std::string_view role_arn, std::string_view session_name,
                              std::string_view token, int duration_seconds);

// The <Credentials> of an AssumeRole / AssumeRoleWithWebIdentity response. Throws
// CredentialError with STS's error code and message for an <ErrorResponse>, or on a malformed
// body.
Credentials parse_sts_response(std::string_view xml);

// "2015-08-30T12:36:00Z" (fractional seconds allowed) -> time point; nullopt when malformed.
std::optional<TimePoint> parse_iso8601(std::string_view text);

}  // namespace sab::aws
