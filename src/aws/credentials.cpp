#include "aws/credentials.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <charconv>
#include <fstream>
#include <sstream>

#include "aws/sigv4.hpp"
#include "aws/xml.hpp"
#include "common/log.hpp"
#include "metrics/metrics.hpp"
#include "net/http_client.hpp"

namespace sab::aws {

void wipe(Credentials& c) {
  if (!c.secret_access_key.empty()) {
    OPENSSL_cleanse(c.secret_access_key.data(), c.secret_access_key.size());
  }
  if (!c.session_token.empty()) OPENSSL_cleanse(c.session_token.data(), c.session_token.size());
  c.secret_access_key.clear();
  c.session_token.clear();
}

std::string_view to_string(CredentialSource source) {
  switch (source) {
    case CredentialSource::config:
      return "config";
    case CredentialSource::environment:
      return "environment";
    case CredentialSource::web_identity:
      return "web_identity";
    case CredentialSource::shared_file:
      return "shared_file";
    case CredentialSource::none:
      return "none";
  }
  return "none";
}

FileReader real_file_reader() {
  return [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return ss.str();
  };
}

namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string env_or(const config::Env& env, std::string_view name, std::string fallback = {}) {
  if (!env) return fallback;
  auto v = env(name);
  if (!v || v->empty()) return fallback;
  return *v;
}

}  // namespace

// NOLINTNEXTLINE(readability-function-cognitive-complexity): to be split into steps
std::optional<Credentials> parse_shared_credentials(std::string_view ini,
                                                    std::string_view profile) {
  std::optional<Credentials> found;
  bool in_profile = false;
  std::size_t pos = 0;
  while (pos < ini.size()) {
    std::size_t nl = ini.find('\n', pos);
    if (nl == std::string_view::npos) nl = ini.size();
    const std::string line = trim(ini.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      const auto close = line.find(']');
      std::string name = trim(std::string_view(line).substr(
          1, close == std::string::npos ? std::string::npos : close - 1));
      // The config file spells "[profile x]"; the credentials file "[x]". Accept both.
      if (name.starts_with("profile ")) name = trim(std::string_view(name).substr(8));
      in_profile = name == profile;
      if (in_profile && !found) found.emplace();
      continue;
    }
    if (!in_profile) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = lower(trim(std::string_view(line).substr(0, eq)));
    std::string value = trim(std::string_view(line).substr(eq + 1));
    if (key == "aws_access_key_id") {
      found->access_key_id = std::move(value);
    } else if (key == "aws_secret_access_key") {
      found->secret_access_key = std::move(value);
    } else if (key == "aws_session_token" || key == "aws_security_token") {
      found->session_token = std::move(value);
    }
  }
  if (found && !found->complete()) {
    const std::string missing =
        found->access_key_id.empty() ? "aws_access_key_id" : "aws_secret_access_key";
    wipe(*found);
    throw CredentialError("profile '" + std::string(profile) + "' of the shared credentials file " +
                          "has no " + missing);
  }
  return found;
}

// NOLINTNEXTLINE(readability-function-cognitive-complexity): to be split into steps
SourceChoice choose_source(const config::Config& config, const config::Env& env,
                           const FileReader& read_file) {
  SourceChoice out;
  if (!config.secret.access_key_id.empty() || !config.secret.secret_access_key.empty()) {
    if (config.secret.access_key_id.empty() || config.secret.secret_access_key.empty()) {
      out.error = "secret.access_key_id and secret.secret_access_key must be given together";
      return out;
    }
    out.source = CredentialSource::config;
    out.credentials = {config.secret.access_key_id, config.secret.secret_access_key,
                       config.secret.session_token, std::nullopt};
    out.description = "static keys from the config (secret.*)";
    return out;
  }
  const std::string env_id = env_or(env, "AWS_ACCESS_KEY_ID");
  const std::string env_secret = env_or(env, "AWS_SECRET_ACCESS_KEY");
  if (!env_id.empty() || !env_secret.empty()) {
    if (env_id.empty() || env_secret.empty()) {
      out.error = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together";
      return out;
    }
    out.source = CredentialSource::environment;
    out.credentials = {env_id, env_secret, env_or(env, "AWS_SESSION_TOKEN"), std::nullopt};
    out.description = "environment (AWS_ACCESS_KEY_ID)";
    return out;
  }
  const std::string role = env_or(env, "AWS_ROLE_ARN");
  const std::string token_file = env_or(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!role.empty() && !token_file.empty()) {
    out.source = CredentialSource::web_identity;
    out.web_identity = {role, token_file,
                        env_or(env, "AWS_ROLE_SESSION_NAME", "source-aws-billing")};
    out.description = "web identity (AWS_ROLE_ARN " + role + ", token file " + token_file + ")";
    return out;
  }
  std::string path = env_or(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    const std::string home = env_or(env, "HOME");
    if (!home.empty()) path = home + "/.aws/credentials";
  }
  const std::string profile = env_or(env, "AWS_PROFILE", "default");
  if (!path.empty()) {
    if (auto text = read_file(path)) {
      try {
        if (auto creds = parse_shared_credentials(*text, profile)) {
          out.source = CredentialSource::shared_file;
          out.credentials = std::move(*creds);
          out.description = "shared credentials file " + path + ", profile " + profile;
        } else {
          out.error = "profile '" + profile + "' not found in " + path;
        }
      } catch (const CredentialError& e) {
        out.error = std::string(e.what()) + " (" + path + ")";
      }
      OPENSSL_cleanse(text->data(), text->size());
      return out;
    }
  }
  out.error =
      "no AWS credentials: set secret.* in the config, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
      "AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, or a shared credentials file" +
      (path.empty() ? std::string() : " (" + path + " not readable)");
  return out;
}

StsEndpoint sts_endpoint(const config::Config& config, const config::Env& env) {
  StsEndpoint out;
  out.region = env_or(env, "AWS_REGION", env_or(env, "AWS_DEFAULT_REGION", config.region));
  if (out.region.empty()) out.region = "us-east-1";
  out.url = env_or(env, "AWS_ENDPOINT_URL_STS", env_or(env, "AWS_ENDPOINT_URL"));
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

bool needs_refresh(const Credentials& credentials, TimePoint now) {
  if (!credentials.complete()) return true;
  if (!credentials.expiration) return false;
  return *credentials.expiration - kRefreshMargin <= now;
}

// --- providers -------------------------------------------------------------------------------

boost::asio::awaitable<Credentials> StaticCredentialProvider::get() {
  co_return credentials_;
}

ChainCredentialProvider::ChainCredentialProvider(boost::asio::any_io_executor executor,
                                                 const config::Config& config, config::Env env,
                                                 metrics::Metrics* metrics, ChainOptions options)
    : executor_(std::move(executor)),
      config_(config),
      env_(std::move(env)),
      metrics_(metrics),
      options_(std::move(options)) {}

ChainCredentialProvider::~ChainCredentialProvider() {
  if (cached_) wipe(*cached_);
}

void ChainCredentialProvider::invalidate() {
  if (cached_) wipe(*cached_);
  cached_.reset();
}

boost::asio::awaitable<Credentials> ChainCredentialProvider::get() {
  if (cached_ && !needs_refresh(*cached_, options_.clock())) co_return *cached_;
  std::optional<CredentialError> failure;
  Credentials fresh;
  try {
    fresh = co_await fetch();
  } catch (const CredentialError& e) {
    failure = e;
  }
  if (failure) {
    // A failed early refresh: credentials that have not expired yet still serve.
    const TimePoint now = options_.clock();
    if (cached_ && cached_->expiration && *cached_->expiration > now) {
      log::warn("AWS credential refresh failed; using the current ones until they expire",
                {{"error", failure->what()}, {"access_key_id", cached_->access_key_id}});
      co_return *cached_;
    }
    if (cached_) wipe(*cached_);
    cached_.reset();
    throw *failure;
  }
  if (cached_) wipe(*cached_);
  cached_ = fresh;
  co_return fresh;
}

boost::asio::awaitable<Credentials> ChainCredentialProvider::sts_call(std::string body,
                                                                      const Credentials* signer) {
  const StsEndpoint endpoint = sts_endpoint(config_, env_);
  auto url = net::parse_url(endpoint.url);
  if (!url) throw CredentialError("invalid STS endpoint URL '" + endpoint.url + "'");
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (url->tls) tls = net::make_client_tls_context({options_.ca_file, false});
  net::HttpClient client(executor_, *url, tls);
  const auto random = default_random();
  for (int retries = 0;; ++retries) {
    net::Request req;
    req.method(boost::beast::http::verb::post);
    req.target(url->target.empty() ? "/" : url->target);
    req.set(boost::beast::http::field::host, url->host_header);
    req.set(boost::beast::http::field::content_type,
            "application/x-www-form-urlencoded; charset=utf-8");
    req.body() = body;
    if (signer != nullptr) sign(req, *signer, endpoint.region, "sts", options_.clock());
    std::string problem;
    try {
      net::Response resp =
          co_await client.send(std::move(req), options_.sts_timeout, std::uint64_t{1024} * 1024);
      const unsigned status = resp.result_int();
      if (status / 100 == 2) {
        Credentials c = parse_sts_response(resp.body());
        OPENSSL_cleanse(resp.body().data(), resp.body().size());
        OPENSSL_cleanse(body.data(), body.size());
        co_return c;
      }
      const std::string code = xml_element(resp.body(), "Code").value_or("");
      const std::string message = xml_element(resp.body(), "Message").value_or("");
      problem = "STS answered HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) +
                (message.empty() ? "" : ": " + message);
      const bool transient = status >= 500 || status == 429 || code == "Throttling" ||
                             code == "ThrottlingException" || code == "IDPCommunicationError";
      if (!transient || retries >= options_.sts_retry.max_retries) {
        throw CredentialError(problem);
      }
    } catch (const net::TransportError& e) {
      problem = "STS request to " + url->host_header + " failed: " + e.what();
      if (e.kind() == net::TransportErrorKind::tls || retries >= options_.sts_retry.max_retries) {
        throw CredentialError(problem);
      }
    }
    const auto delay = backoff_delay(options_.sts_retry, retries, random());
    log::warn("STS request failed; retrying",
              {{"error", problem}, {"delay_ms", static_cast<std::int64_t>(delay.count())}});
    boost::asio::steady_timer timer(executor_, delay);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

boost::asio::awaitable<Credentials> ChainCredentialProvider::fetch() {
  const SourceChoice choice = choose_source(config_, env_, options_.read_file);
  bool temporary = !config_.role_arn.empty();
  try {
    if (choice.source == CredentialSource::none) throw CredentialError(choice.error);
    Credentials base = choice.credentials;
    if (choice.source == CredentialSource::web_identity) {
      temporary = true;
      auto token = options_.read_file(choice.web_identity.token_file);
      if (!token || trim(*token).empty()) {
        throw CredentialError("cannot read the web identity token file " +
                              choice.web_identity.token_file);
      }
      std::string body =
          web_identity_body(choice.web_identity.role_arn, choice.web_identity.session_name,
                            trim(*token), options_.duration_seconds);
      OPENSSL_cleanse(token->data(), token->size());
      base = co_await sts_call(std::move(body), nullptr);
      log::info(
          "AWS credentials obtained by web identity",
          {{"role_arn", choice.web_identity.role_arn}, {"access_key_id", base.access_key_id}});
    }
    if (config_.role_arn.empty()) {
      if (choice.source != CredentialSource::web_identity) {
        log::info("AWS credentials loaded",
                  {{"source", choice.description}, {"access_key_id", base.access_key_id}});
      }
      if (temporary && metrics_ != nullptr) metrics_->credential_refreshes("success").Increment();
      co_return base;
    }
    Credentials assumed =
        co_await sts_call(assume_role_body(config_.role_arn, "source-aws-billing",
                                           config_.external_id, options_.duration_seconds),
                          &base);
    wipe(base);
    log::info("AWS role assumed", {{"role_arn", config_.role_arn},
                                   {"source", choice.description},
                                   {"access_key_id", assumed.access_key_id}});
    if (metrics_ != nullptr) metrics_->credential_refreshes("success").Increment();
    co_return assumed;
  } catch (const CredentialError& e) {
    if (temporary && metrics_ != nullptr) metrics_->credential_refreshes("failure").Increment();
    log::error("cannot obtain AWS credentials", {{"error", e.what()}});
    throw;
  }
}

}  // namespace sab::aws
