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
    case CredentialSource::container:
      return "container";
    case CredentialSource::imds:
      return "imds";
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
                      text::env_or(env, "AWS_ROLE_SESSION_NAME", std::string(kDefaultSessionName))};
  out.description = "web identity (AWS_ROLE_ARN " + role + ", token file " + token_file + ")";
  return out;
}

std::string files_text(const ProfileFiles& files) {
  std::string out;
  for (const std::string* p : {&files.config_path, &files.credentials_path}) {
    if (p->empty()) continue;
    if (!out.empty()) out += ", ";
    out += *p;
  }
  return out.empty() ? std::string("no HOME, no AWS_CONFIG_FILE") : out;
}

// The selected profile of the shared files. Nullopt when it is the default one and is missing or
// holds no credentials (the chain goes on); a profile named by AWS_PROFILE must exist.
std::optional<SourceChoice> from_profiles(const ProfileFiles& files, const config::Env& env,
                                          std::vector<std::string>& tried) {
  bool named = false;
  const std::string profile = selected_profile(env, &named);
  const std::string where = files_text(files);
  SourceChoice out;
  if (!files.has(profile)) {
    if (named) {
      out.error = "profile '" + profile + "' not found in " + where;
      return out;
    }
    const bool none_read = !files.config_read && !files.credentials_read;
    tried.push_back("shared files (" + where + "): " +
                    (none_read ? std::string("not readable") : "no profile '" + profile + "'"));
    return std::nullopt;
  }
  try {
    auto plan = resolve_profile(files, profile);
    if (!plan) {
      tried.push_back("shared files (" + where + "): profile '" + profile +
                      "' holds no credentials");
      return std::nullopt;
    }
    out.source = CredentialSource::shared_file;
    out.description = describe(*plan);
    out.profile = std::move(plan);
  } catch (const CredentialError& e) {
    out.error = std::string(e.what()) + " (" + where + ")";
  }
  return out;
}

std::optional<SourceChoice> from_container(const config::Env& env) {
  if (!container_configured(env)) return std::nullopt;
  SourceChoice out;
  out.source = CredentialSource::container;
  out.description = text::env_or(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty()
                        ? "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)"
                        : "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)";
  return out;
}

SourceChoice from_imds(const config::Env& env, std::vector<std::string>& tried) {
  SourceChoice out;
  const ImdsSettings imds = imds_settings(env);
  if (imds.disabled) {
    tried.emplace_back("IMDS: disabled by AWS_EC2_METADATA_DISABLED");
    out.error = no_credentials_message(tried);
    return out;
  }
  out.source = CredentialSource::imds;
  out.description = "IMDS (" + imds.endpoint + ")";
  return out;
}

// The choice, with the sources tried before it.
SourceChoice chosen(SourceChoice choice, std::vector<std::string>& tried, std::string region) {
  choice.tried = std::move(tried);
  choice.region = std::move(region);
  return choice;
}

bool temporary_source(const SourceChoice& choice) {
  switch (choice.source) {
    case CredentialSource::web_identity:
    case CredentialSource::container:
    case CredentialSource::imds:
      return true;
    case CredentialSource::shared_file:
      return choice.profile &&
             (choice.profile->base != ProfileBase::static_keys || !choice.profile->roles.empty());
    default:
      return false;
  }
}

}  // namespace

std::string no_credentials_message(const std::vector<std::string>& tried) {
  std::string out = "no AWS credentials found; tried";
  for (std::size_t i = 0; i < tried.size(); ++i)
    out += (i == 0 ? ": " : "; ") + tried[i];
  return out;
}

SourceChoice choose_source(const config::Config& config, const config::Env& env,
                           const FileReader& read_file) {
  std::vector<std::string> tried;
  // The files are read first: the selected profile's region serves STS whatever the source.
  const ProfileFiles files = load_profile_files(env, read_file);
  const std::string region = files.setting(selected_profile(env), "region");
  if (auto c = from_config(config)) return chosen(std::move(*c), tried, region);
  tried.emplace_back("config: secret.* not set");
  if (auto c = from_environment(env)) return chosen(std::move(*c), tried, region);
  tried.emplace_back("environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set");
  if (auto c = from_web_identity(env)) return chosen(std::move(*c), tried, region);
  tried.emplace_back("web identity: AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE not set");
  if (auto c = from_profiles(files, env, tried)) return chosen(std::move(*c), tried, region);
  if (auto c = from_container(env)) return chosen(std::move(*c), tried, region);
  tried.emplace_back(
      "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI not "
      "set");
  return chosen(from_imds(env, tried), tried, region);
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
                                                                      const Credentials* signer,
                                                                      std::string_view region) {
  const StsEndpoint endpoint = sts_endpoint(config_, env_, region);
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

boost::asio::awaitable<Credentials> ChainCredentialProvider::web_identity_credentials(
    const WebIdentity& identity, std::string_view region) {
  auto token = options_.read_file(identity.token_file);
  if (!token || text::trim(*token).empty()) {
    throw CredentialError("cannot read the web identity token file " + identity.token_file);
  }
  std::string trimmed = text::trim(*token);
  std::string body = web_identity_body(identity.role_arn, identity.session_name, trimmed,
                                       options_.duration_seconds);
  OPENSSL_cleanse(token->data(), token->size());
  OPENSSL_cleanse(trimmed.data(), trimmed.size());
  Credentials c = co_await sts_call(std::move(body), nullptr, region);
  log::info("AWS credentials obtained by web identity",
            {{"role_arn", identity.role_arn}, {"access_key_id", c.access_key_id}});
  co_return c;
}

boost::asio::awaitable<Credentials> ChainCredentialProvider::profile_base(const ProfilePlan& plan) {
  const std::string of_profile = " of profile '" + plan.base_profile + "'";
  switch (plan.base) {
    case ProfileBase::static_keys:
      co_return plan.keys;
    case ProfileBase::process:
      co_return co_await process_credentials(plan.process, plan.base_profile, options_.process);
    case ProfileBase::web_identity:
      co_return co_await web_identity_credentials(
          {plan.web_identity_role_arn, plan.web_identity_token_file,
           plan.web_identity_session_name},
          plan.region);
    case ProfileBase::environment: {
      auto env = from_environment(env_);
      if (!env || env->source != CredentialSource::environment) {
        throw CredentialError("credential_source Environment" + of_profile +
                              ": AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set");
      }
      co_return env->credentials;
    }
    case ProfileBase::imds:
      co_return co_await imds_credentials(executor_, imds_settings(env_), options_.imds);
    case ProfileBase::container:
      if (!container_configured(env_)) {
        throw CredentialError("credential_source EcsContainer" + of_profile +
                              ": AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
      }
      co_return co_await container_credentials(executor_, env_, options_.read_file,
                                               container_options());
  }
  throw CredentialError("unknown profile source" + of_profile);
}

boost::asio::awaitable<Credentials> ChainCredentialProvider::profile_credentials(
    const ProfilePlan& plan) {
  Credentials current = co_await profile_base(plan);
  for (const auto& role : plan.roles) {
    const int duration =
        role.duration_seconds > 0 ? role.duration_seconds : options_.duration_seconds;
    std::string body =
        assume_role_body(role.role_arn, role.session_name, role.external_id, duration);
    std::optional<CredentialError> failure;
    Credentials next;
    try {
      next = co_await sts_call(std::move(body), &current, plan.region);
    } catch (const CredentialError& e) {
      failure.emplace("role " + role.role_arn + " of profile '" + role.profile + "': " + e.what());
    }
    wipe(current);
    if (failure) throw *failure;
    log::debug("AWS role of a profile assumed", {{"profile", role.profile},
                                                 {"role_arn", role.role_arn},
                                                 {"access_key_id", next.access_key_id}});
    current = std::move(next);
  }
  co_return current;
}

ContainerOptions ChainCredentialProvider::container_options() const {
  ContainerOptions o = options_.container;
  if (o.ca_file.empty()) o.ca_file = options_.ca_file;
  o.proxies = options_.proxies;
  return o;
}

boost::asio::awaitable<Credentials> ChainCredentialProvider::base_credentials(
    const SourceChoice& choice) {
  switch (choice.source) {
    case CredentialSource::web_identity:
      co_return co_await web_identity_credentials(choice.web_identity, choice.region);
    case CredentialSource::shared_file:
      co_return co_await profile_credentials(*choice.profile);
    case CredentialSource::container:
      co_return co_await container_credentials(executor_, env_, options_.read_file,
                                               container_options());
    case CredentialSource::imds: {
      // The last source: when IMDS fails too, the message lists everything tried.
      std::optional<std::string> failure;
      try {
        co_return co_await imds_credentials(executor_, imds_settings(env_), options_.imds);
      } catch (const CredentialError& e) {
        failure = e.what();
      }
      auto tried = choice.tried;
      tried.push_back(*failure);
      throw CredentialError(no_credentials_message(tried));
    }
    default:
      co_return choice.credentials;
  }
}

boost::asio::awaitable<Credentials> ChainCredentialProvider::fetch() {
  const SourceChoice choice = choose_source(config_, env_, options_.read_file);
  const bool temporary = !config_.role_arn.empty() || temporary_source(choice);
  try {
    if (choice.source == CredentialSource::none) throw CredentialError(choice.error);
    Credentials base = co_await base_credentials(choice);
    if (config_.role_arn.empty()) {
      if (choice.source != CredentialSource::web_identity) {
        log::info("AWS credentials loaded",
                  {{"source", choice.description}, {"access_key_id", base.access_key_id}});
      }
      if (temporary && metrics_ != nullptr) metrics_->credential_refreshes("success").Increment();
      co_return base;
    }
    Credentials assumed =
        co_await sts_call(assume_role_body(config_.role_arn, kDefaultSessionName,
                                           config_.external_id, options_.duration_seconds),
                          &base, choice.region);
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
