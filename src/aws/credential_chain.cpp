#include "aws/credential_chain.hpp"

#include <openssl/crypto.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "aws/sigv4.hpp"
#include "aws/sts.hpp"
#include "aws/text.hpp"
#include "aws/xml.hpp"
#include "common/log.hpp"
#include "metrics/metrics.hpp"
#include "net/http_client.hpp"

namespace sab::aws {

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

namespace {

// One step of the chain each, in the SDKs' order: nullopt when the source is not configured
// at all (the chain goes on), else the choice or the error that ends the chain.
std::optional<SourceChoice> from_config(const config::Config& config) {
  const auto& secret = config.secret;
  if (secret.access_key_id.empty() && secret.secret_access_key.empty()) return std::nullopt;
  SourceChoice out;
  if (secret.access_key_id.empty() || secret.secret_access_key.empty()) {
    out.error = "secret.access_key_id and secret.secret_access_key must be given together";
    return out;
  }
  out.source = CredentialSource::config;
  out.credentials = {secret.access_key_id, secret.secret_access_key, secret.session_token,
                     std::nullopt};
  out.description = "static keys from the config (secret.*)";
  return out;
}

std::optional<SourceChoice> from_environment(const config::Env& env) {
  const std::string env_id = text::env_or(env, "AWS_ACCESS_KEY_ID");
  const std::string env_secret = text::env_or(env, "AWS_SECRET_ACCESS_KEY");
  if (env_id.empty() && env_secret.empty()) return std::nullopt;
  SourceChoice out;
  if (env_id.empty() || env_secret.empty()) {
    out.error = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together";
    return out;
  }
  out.source = CredentialSource::environment;
  out.credentials = {env_id, env_secret, text::env_or(env, "AWS_SESSION_TOKEN"), std::nullopt};
  out.description = "environment (AWS_ACCESS_KEY_ID)";
  return out;
}

std::optional<SourceChoice> from_web_identity(const config::Env& env) {
  const std::string role = text::env_or(env, "AWS_ROLE_ARN");
  const std::string token_file = text::env_or(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (role.empty() || token_file.empty()) return std::nullopt;
  SourceChoice out;
  out.source = CredentialSource::web_identity;
  out.web_identity = {role, token_file,
                      text::env_or(env, "AWS_ROLE_SESSION_NAME", "source-aws-billing")};
  out.description = "web identity (AWS_ROLE_ARN " + role + ", token file " + token_file + ")";
  return out;
}

std::string shared_credentials_path(const config::Env& env) {
  std::string path = text::env_or(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    const std::string home = text::env_or(env, "HOME");
    if (!home.empty()) path = home + "/.aws/credentials";
  }
  return path;
}

// Nullopt when the file cannot be read (the chain ends with "no credentials").
std::optional<SourceChoice> from_shared_file(const std::string& path, const config::Env& env,
                                             const FileReader& read_file) {
  if (path.empty()) return std::nullopt;
  auto file = read_file(path);
  if (!file) return std::nullopt;
  const std::string profile = text::env_or(env, "AWS_PROFILE", "default");
  SourceChoice out;
  try {
    if (auto creds = parse_shared_credentials(*file, profile)) {
      out.source = CredentialSource::shared_file;
      out.credentials = std::move(*creds);
      out.description = "shared credentials file " + path + ", profile " + profile;
    } else {
      out.error = "profile '" + profile + "' not found in " + path;
    }
  } catch (const CredentialError& e) {
    out.error = std::string(e.what()) + " (" + path + ")";
  }
  OPENSSL_cleanse(file->data(), file->size());
  return out;
}

}  // namespace

SourceChoice choose_source(const config::Config& config, const config::Env& env,
                           const FileReader& read_file) {
  if (auto c = from_config(config)) return std::move(*c);
  if (auto c = from_environment(env)) return std::move(*c);
  if (auto c = from_web_identity(env)) return std::move(*c);
  const std::string path = shared_credentials_path(env);
  if (auto c = from_shared_file(path, env, read_file)) return std::move(*c);
  SourceChoice out;
  out.error =
      "no AWS credentials: set secret.* in the config, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
      "AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, or a shared credentials file" +
      (path.empty() ? std::string() : " (" + path + " not readable)");
  return out;
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
  net::HttpClient client(executor_, *url, tls, options_.proxies.for_origin(*url));
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
      if (e.kind() == net::TransportErrorKind::tls ||
          e.kind() == net::TransportErrorKind::proxy_auth ||
          retries >= options_.sts_retry.max_retries) {
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
      if (!token || text::trim(*token).empty()) {
        throw CredentialError("cannot read the web identity token file " +
                              choice.web_identity.token_file);
      }
      std::string body =
          web_identity_body(choice.web_identity.role_arn, choice.web_identity.session_name,
                            text::trim(*token), options_.duration_seconds);
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
