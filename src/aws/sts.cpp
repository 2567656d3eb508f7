#include "aws/sts.hpp"

#include <charconv>

#include "aws/sigv4.hpp"
#include "aws/text.hpp"
#include "aws/xml.hpp"

namespace sab::aws {

StsEndpoint sts_endpoint(const config::Config& config, const config::Env& env,
                         std::string_view profile_region) {
  StsEndpoint out;
  const std::string fallback = profile_region.empty() ? config.region : std::string(profile_region);
  out.region = text::env_or(env, "AWS_REGION", text::env_or(env, "AWS_DEFAULT_REGION", fallback));
  if (out.region.empty()) out.region = "us-east-1";
  out.url = text::env_or(env, "AWS_ENDPOINT_URL_STS", text::env_or(env, "AWS_ENDPOINT_URL"));
  if (out.url.empty()) {
    out.url = "https://sts." + out.region + ".amazonaws.com";
    if (out.region.starts_with("cn-")) out.url += ".cn";
  }
  return out;
}

std::string form_encode(std::string_view value) {
  return uri_encode(value, false);
}

std::string assume_role_body(std::string_view role_arn, std::string_view session_name,
                             std::string_view external_id, int duration_seconds) {
  std::string body = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + form_encode(role_arn) +
                     "&RoleSessionName=" + form_encode(session_name) +
                     "&DurationSeconds=" + std::to_string(duration_seconds);
  if (!external_id.empty()) body += "&ExternalId=" + form_encode(external_id);
  return body;
}

std::string web_identity_body(std::string_view role_arn, std::string_view session_name,
                              std::string_view token, int duration_seconds) {
  return "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(role_arn) +
         "&RoleSessionName=" + form_encode(session_name) +
         "&DurationSeconds=" + std::to_string(duration_seconds) +
         "&WebIdentityToken=" + form_encode(token);
}

std::optional<TimePoint> parse_iso8601(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00)
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    if (pos + len > t.size()) return std::nullopt;
    int v = 0;
    auto [p, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, v);
    if (ec != std::errc{} || p != t.data() + pos + len) return std::nullopt;
    return v;
  };
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       s = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  std::size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9')
      ++pos;
  }
  const std::string_view zone = t.substr(pos);
  if (zone != "Z" && zone != "+00:00" && !zone.empty()) return std::nullopt;
  return TimePoint{sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s}};
}

Credentials parse_sts_response(std::string_view xml) {
  if (xml.find("<ErrorResponse") != std::string_view::npos ||
      xml.find("<Error>") != std::string_view::npos) {
    const std::string code = xml_element(xml, "Code").value_or("unknown");
    const std::string message = xml_element(xml, "Message").value_or("");
    throw CredentialError("STS error " + code + (message.empty() ? "" : ": " + message));
  }
  const auto creds_at = xml.find("<Credentials>");
  if (creds_at == std::string_view::npos) {
    throw CredentialError("STS response without <Credentials> (" + std::to_string(xml.size()) +
                          " bytes)");
  }
  Credentials c;
  c.access_key_id = xml_element(xml, "AccessKeyId", creds_at).value_or("");
  c.secret_access_key = xml_element(xml, "SecretAccessKey", creds_at).value_or("");
  c.session_token = xml_element(xml, "SessionToken", creds_at).value_or("");
  const auto expiration = xml_element(xml, "Expiration", creds_at);
  if (!c.complete() || c.session_token.empty() || !expiration) {
    wipe(c);
    throw CredentialError("STS response with incomplete <Credentials>");
  }
  c.expiration = parse_iso8601(*expiration);
  if (!c.expiration) {
    wipe(c);
    throw CredentialError("STS response with a malformed <Expiration> '" + *expiration + "'");
  }
  return c;
}

}  // namespace sab::aws
