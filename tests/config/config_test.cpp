#include "config/config.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

using namespace sab::config;

namespace {

Env env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const Env kNoEnv = env_of({});

LoadResult load(std::string_view yaml, const Env& env = kNoEnv) {
  return load_from_string(yaml, env);
}

bool has_error(const LoadResult& r, std::string_view needle) {
  return std::any_of(r.errors.begin(), r.errors.end(),
                     [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors)
    out += e + "\n";
  return out;
}

}  // namespace

TEST_CASE("config: the original connector's minimal file gets every default") {
  auto r = load(
      "target: http://localhost:31081\n"
      "secret:\n  access_key_id: AKIDEXAMPLE\n  secret_access_key: wJalrXUtnFEMI/K7MDENG\n");
  REQUIRE_MESSAGE(r.config, all_errors(r));
  const Config& c = *r.config;
  CHECK(c.target == "http://localhost:31081");
  CHECK(c.endpoint == "https://ce.us-east-1.amazonaws.com");
  CHECK(c.pull_hour == 2);
  CHECK(c.pull_zone == "UTC");
  CHECK(c.secret.access_key_id == "AKIDEXAMPLE");
  CHECK(c.secret.secret_access_key == "wJalrXUtnFEMI/K7MDENG");
  CHECK(c.secret.session_token.empty());
  CHECK(c.role_arn.empty());
  CHECK(c.send_event_attempts == 0);
  CHECK(c.region == "us-east-1");
  CHECK(c.granularity == Granularity::daily);
  REQUIRE(c.group_by.size() == 1);
  CHECK(c.group_by[0] == GroupBy{"DIMENSION", "SERVICE"});
  CHECK(c.metrics == std::vector<std::string>{"AmortizedCost", "BlendedCost", "NetAmortizedCost",
                                              "NetUnblendedCost", "UnblendedCost"});
  CHECK(c.filter_json.empty());
  CHECK(c.catch_up_days == 7);
  CHECK(c.restate_days == 0);
  CHECK(c.state_dir == "./state");
  CHECK(c.delivery.mode == DeliveryMode::binary);
  CHECK(c.delivery.batch_size == 100);
  CHECK(c.delivery.concurrency == 4);
  CHECK(c.delivery.timeout == std::chrono::seconds(10));
  CHECK(c.delivery.headers.empty());
  CHECK(c.delivery.ca_file.empty());
  CHECK_FALSE(c.delivery.insecure_skip_verify);
  CHECK(c.listen.host == "0.0.0.0");
  CHECK(c.listen.port == 8080);
  CHECK(c.shutdown_timeout == std::chrono::seconds(20));
  CHECK(c.max_response_bytes == 16ull * 1024 * 1024);
  CHECK(c.cost_gauge_series == 500);
  CHECK(c.log_level == LogLevel::info);
  CHECK(c.log_format == LogFormat::json);
}

TEST_CASE("config: every key set") {
  auto r = load(R"(
target: https://broker.example.com/default/ns
endpoint: https://ce.eu-west-1.amazonaws.com
pull_hour: 23
pull_zone: Europe/Berlin
secret: {access_key_id: AKIDEXAMPLE, secret_access_key: s3cr3tValue, session_token: tok3nValue}
role_arn: arn:aws:iam::123456789012:role/billing-reader
external_id: ext-id-1234
send_event_attempts: 5
region: eu-central-1
granularity: MONTHLY
group_by:
  - {type: DIMENSION, key: SERVICE}
  - {type: TAG, key: team}
metrics: [UnblendedCost, UsageQuantity]
filter:
  Dimensions: {Key: LINKED_ACCOUNT, Values: [012345678901]}
catch_up_days: 30
restate_days: 3
state_dir: /var/lib/source-aws-billing
delivery:
  mode: batch
  batch_size: 50
  concurrency: 8
  timeout: 1m30s
  headers: {Authorization: Bearer abcdef123456}
  insecure_skip_verify: true
listen: "[::1]:9090"
shutdown_timeout: 500ms
max_response_bytes: 64MiB
log: {level: debug, format: text}
)");
  REQUIRE_MESSAGE(r.config, all_errors(r));
  const Config& c = *r.config;
  CHECK(c.pull_hour == 23);
  CHECK(c.pull_zone == "Europe/Berlin");
  CHECK(c.secret.session_token == "tok3nValue");
  CHECK(c.role_arn == "arn:aws:iam::123456789012:role/billing-reader");
  CHECK(c.external_id == "ext-id-1234");
  CHECK(c.send_event_attempts == 5);
  CHECK(c.region == "eu-central-1");
  CHECK(c.region_explicit);
  CHECK(c.granularity == Granularity::monthly);
  CHECK(c.group_by[1] == GroupBy{"TAG", "team"});
  CHECK(c.metrics == std::vector<std::string>{"UnblendedCost", "UsageQuantity"});
  // Leaves stay strings: an account id keeps its leading zero.
  CHECK(c.filter_json == R"({"Dimensions":{"Key":"LINKED_ACCOUNT","Values":["012345678901"]}})");
  CHECK(c.catch_up_days == 30);
  CHECK(c.restate_days == 3);
  CHECK(c.delivery.mode == DeliveryMode::batch);
  CHECK(c.delivery.batch_size == 50);
  CHECK(c.delivery.concurrency == 8);
  CHECK(c.delivery.timeout == std::chrono::seconds(90));
  REQUIRE(c.delivery.headers.size() == 1);
  CHECK(c.delivery.headers[0].first == "Authorization");
  CHECK(c.delivery.insecure_skip_verify);
  CHECK(c.listen.host == "::1");
  CHECK(c.listen.port == 9090);
  CHECK(c.shutdown_timeout == std::chrono::milliseconds(500));
  CHECK(c.max_response_bytes == 64ull * 1024 * 1024);
  CHECK(c.log_level == LogLevel::debug);
  CHECK(c.log_format == LogFormat::text);
}

TEST_CASE("config: region comes from the endpoint host") {
  auto region = [](std::string endpoint) {
    auto r = load("target: http://x\nendpoint: " + endpoint + "\n");
    REQUIRE_MESSAGE(r.config, all_errors(r));
    return r.config->region;
  };
  CHECK(region("https://ce.us-east-1.amazonaws.com") == "us-east-1");
  CHECK(region("https://ce.cn-northwest-1.amazonaws.com.cn") == "cn-northwest-1");
  CHECK(region("http://127.0.0.1:5000") == "us-east-1");
  CHECK(region("https://CE.EU-WEST-1.AMAZONAWS.COM") == "eu-west-1");
  CHECK(region_from_host("ce.ap-southeast-2.amazonaws.com") == "ap-southeast-2");
  CHECK_FALSE(region_from_host("example.com"));
  // Host names are case-insensitive; the region signed for is lower case.
  CHECK(region_from_host("CE.EU-WEST-1.AMAZONAWS.COM") == "eu-west-1");
  CHECK(region_from_host("Ce.Cn-Northwest-1.AmazonAws.Com.Cn") == "cn-northwest-1");
  CHECK(region_from_host("ce.eu-west-1.amazonaws.com.") == "eu-west-1");
  CHECK_FALSE(region_from_host("ce..amazonaws.com"));
}

TEST_CASE("config: CONNECTOR_TARGET overrides target") {
  auto r = load("target: http://file\n", env_of({{"CONNECTOR_TARGET", "http://env:8080"}}));
  REQUIRE(r.config);
  CHECK(r.config->target == "http://env:8080");
  auto r2 = load("pull_hour: 3\n", env_of({{"CONNECTOR_TARGET", "http://env:8080"}}));
  REQUIRE_MESSAGE(r2.config, all_errors(r2));
  CHECK(r2.config->target == "http://env:8080");
}

TEST_CASE("config: config path resolution") {
  CHECK(resolve_path(std::string("/a.yml"), env_of({{"CONNECTOR_CONFIG", "/b.yml"}})) == "/a.yml");
  CHECK(resolve_path(std::nullopt, env_of({{"CONNECTOR_CONFIG", "/b.yml"}})) == "/b.yml");
  CHECK(resolve_path(std::nullopt, kNoEnv) == "/vanus-connect/config/config.yml");
}

TEST_CASE("config: errors name the key and the problem, all at once") {
  auto r = load(R"(
pull_hour: 24
endpoint: ftp://example.com
unknown_top: 1
secret: {access_key_id: AKIDEXAMPLE, other: x}
delivery: {timeout: 10, mode: fast, bogus: true, concurrency: 0}
log: {level: loud}
)");
  CHECK_FALSE(r.config);
  CHECK(has_error(r, "target: is required"));
  CHECK(has_error(r, "pull_hour: must be from 0 to 23, got 24"));
  CHECK(has_error(r, "endpoint: scheme must be http or https"));
  CHECK(has_error(r, "unknown_top: unknown key"));
  CHECK(has_error(r, "secret.other: unknown key"));
  CHECK(has_error(r, "secret.secret_access_key: is required"));
  CHECK(has_error(r, "delivery.timeout: must be a duration"));
  CHECK(has_error(r, "delivery.mode: must be binary, structured or batch"));
  CHECK(has_error(r, "delivery.bogus: unknown key"));
  CHECK(has_error(r, "delivery.concurrency: must be from 1"));
  CHECK(has_error(r, "log.level: must be debug"));
  CHECK(r.errors.size() == 11);
}

TEST_CASE("config: wrong types") {
  CHECK(has_error(load("target: http://x\npull_hour: two\n"), "pull_hour: must be an integer"));
  CHECK(has_error(load("target: http://x\npull_hour: 2.5\n"), "pull_hour: must be an integer"));
  CHECK(has_error(load("target: http://x\npull_hour: [1]\n"), "pull_hour: must be an integer"));
  CHECK(has_error(load("target: [a]\n"), "target: must be a string"));
  CHECK(has_error(load("target: http://x\nsecret: abc\n"), "secret: must be a mapping"));
  CHECK(has_error(load("target: http://x\ndelivery: {insecure_skip_verify: maybe}\n"),
                  "delivery.insecure_skip_verify: must be true or false"));
  CHECK(has_error(load("target: http://x\ngroup_by: SERVICE\n"), "group_by: must be a list"));
  CHECK(has_error(load("target: http://x\nmetrics: []\n"), "metrics: must be a non-empty list"));
  CHECK(has_error(load("target: http://x\nfilter: [1]\n"), "filter: must be a mapping"));
  CHECK(has_error(load("- a\n- b\n"), "must be a mapping of keys"));
  CHECK(has_error(load("target: [unclosed\n"), "yaml: line"));
}

TEST_CASE("config: out of range and invalid values") {
  CHECK(has_error(load("target: http://x\npull_hour: -1\n"), "pull_hour: must be from 0 to 23"));
  CHECK(has_error(load("target: http://x\npull_zone: Mars/Olympus\n"),
                  "pull_zone: is not a time zone"));
  CHECK(has_error(load("target: http://x\ngranularity: HOURLY\n"),
                  "granularity: must be DAILY or MONTHLY"));
  CHECK(has_error(load("target: http://x\ngroup_by: [{type: DIMENSION, key: NOPE}]\n"),
                  "group_by[0].key: is not a Cost Explorer dimension"));
  CHECK(has_error(load("target: http://x\ngroup_by: [{type: LABEL, key: a}]\n"),
                  "group_by[0].type: must be DIMENSION, TAG or COST_CATEGORY"));
  CHECK(has_error(load("target: http://x\ngroup_by: [{type: TAG}]\n"),
                  "group_by[0].key: is required"));
  CHECK(has_error(load("target: http://x\ngroup_by: [{type: TAG, key: a, x: 1}]\n"),
                  "group_by[0].x: unknown key"));
  CHECK(has_error(load("target: http://x\ngroup_by: [{type: TAG, key: a}, {type: TAG, key: b}, "
                       "{type: TAG, key: c}]\n"),
                  "group_by: must have 1 or 2 entries"));
  CHECK(has_error(load("target: http://x\nmetrics: [Cost]\n"),
                  "metrics[0]: is not a Cost Explorer metric"));
  CHECK(has_error(load("target: http://x\nmetrics: [UnblendedCost, UnblendedCost]\n"),
                  "metrics[1]: repeats"));
  CHECK(
      has_error(load("target: http://x\ncatch_up_days: 1000\n"), "catch_up_days: must be from 0"));
  CHECK(has_error(load("target: http://x\nrestate_days: -2\n"), "restate_days: must be from 0"));
  CHECK(has_error(load("target: http://x\nsend_event_attempts: -1\n"), "send_event_attempts"));
  CHECK(has_error(load("target: http://x\nregion: US East\n"), "region: must be an AWS region"));
  CHECK(
      has_error(load("target: http://x\nrole_arn: myrole\n"), "role_arn: must be an IAM role ARN"));
  CHECK(has_error(load("target: http://x\nexternal_id: abc\n"), "external_id: needs role_arn"));
  CHECK(has_error(load("target: http://x\nlisten: 8080\n"), "listen: must be host:port"));
  CHECK(has_error(load("target: http://x\nlisten: ':70000'\n"), "listen: port must be"));
  CHECK(has_error(load("target: http://x\nshutdown_timeout: soon\n"), "shutdown_timeout"));
  CHECK(has_error(load("target: http://x\ncost_gauge_series: -1\n"), "cost_gauge_series"));
  CHECK(load("target: http://x\ncost_gauge_series: 0\n").config->cost_gauge_series == 0);
  CHECK(has_error(load("target: http://x\nmax_response_bytes: 10\n"),
                  "max_response_bytes: must be at least"));
  CHECK(has_error(load("target: http://x\nmax_response_bytes: lots\n"),
                  "max_response_bytes: must be a size"));
  CHECK(has_error(load("target: http://x\nlog: {format: xml}\n"), "log.format"));
  CHECK(has_error(load("target: http://x\ndelivery: {batch_size: 0}\n"), "delivery.batch_size"));
  CHECK(has_error(load("target: http://x\ndelivery: {ca_file: /nonexistent/ca.pem}\n"),
                  "delivery.ca_file: cannot be read"));
  CHECK(has_error(load("target: http://x\ndelivery: {headers: {Content-Type: text/plain}}\n"),
                  "delivery.headers.Content-Type: is set by the service"));
  CHECK(has_error(load("target: http://x\ndelivery: {headers: {\"Bad Name\": v}}\n"),
                  "is not a valid HTTP header name"));
  CHECK(has_error(load("target: http://x\nsecret: {session_token: tok}\n"),
                  "secret.session_token: needs"));
}

TEST_CASE("config: bad URLs") {
  CHECK(has_error(load("target: not a url\n"), "target: must be an http or https URL"));
  CHECK(has_error(load("target: mailto:someone@example.com\n"), "target: scheme must be http"));
  CHECK(has_error(load("target: http://\n"), "target: has no host"));
  CHECK(has_error(load("target: http://x\nendpoint: https://ce.us-east-1.amazonaws.com/path\n"),
                  "endpoint: must not have a path"));
  CHECK(load("target: http://[::1]:8080/events?x=1\n").config.has_value());
}

TEST_CASE("config: a header value with CR/LF is refused without echoing it") {
  auto r = load("target: http://x\ndelivery: {headers: {X-Token: \"abc\\r\\nX-Evil: 1\"}}\n");
  CHECK(has_error(r, "delivery.headers.X-Token: value must not contain CR, LF"));
  CHECK(all_errors(r).find("X-Evil") == std::string::npos);
}

TEST_CASE("config: secrets are masked in the rendered config and never in errors") {
  auto r = load(R"(
target: https://user:hunter2pass@sink.example.com/
secret: {access_key_id: AKIAIOSFODNN7EXAMPLE, secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCY, session_token: FQoGZXIvYXdzEJr}
role_arn: arn:aws:iam::123456789012:role/r
external_id: extSecret99
delivery: {headers: {Authorization: Bearer tokenValue123}}
)");
  REQUIRE_MESSAGE(r.config, all_errors(r));
  const std::string text = render_masked(*r.config);
  for (const char* secret : {"wJalrXUtnFEMIK7MDENGbPxRfiCY", "FQoGZXIvYXdzEJr", "extSecret99",
                             "Bearer tokenValue123", "hunter2pass", "IOSFODNN7EXAMPLE"}) {
    CHECK_MESSAGE(text.find(secret) == std::string::npos, "leaked a secret in --check-config");
  }
  CHECK(text.find("access_key_id: AKIA******") != std::string::npos);
  CHECK(text.find("Authorization: \"******\"") != std::string::npos);
  const auto secrets = secret_values(*r.config);
  CHECK(std::find(secrets.begin(), secrets.end(), "hunter2pass") != secrets.end());
  CHECK(std::find(secrets.begin(), secrets.end(), "Bearer tokenValue123") != secrets.end());

  // A wrong value next to a secret: the error does not show the secret.
  auto bad = load("target: http://x\nsecret: {secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCY}\n");
  CHECK(all_errors(bad).find("wJalrXUtnFEMIK7MDENGbPxRfiCY") == std::string::npos);
}

TEST_CASE("config: the rendered config loads back to the same values") {
  auto r = load(
      "target: http://x\ngroup_by: [{type: DIMENSION, key: LINKED_ACCOUNT}]\n"
      "filter: {Not: {Dimensions: {Key: RECORD_TYPE, Values: [Credit, Refund]}}}\n"
      "delivery: {timeout: 1500ms}\nmax_response_bytes: 2000\n");
  REQUIRE_MESSAGE(r.config, all_errors(r));
  auto again = load(render_masked(*r.config));
  REQUIRE_MESSAGE(again.config, all_errors(again));
  CHECK(again.config->group_by == r.config->group_by);
  CHECK(again.config->filter_json == r.config->filter_json);
  CHECK(again.config->delivery.timeout == r.config->delivery.timeout);
  CHECK(again.config->max_response_bytes == 2000);
}

TEST_CASE("config: a file with secrets readable by others gets a warning") {
  const std::string path = "config_test_secret.yml";
  {
    std::ofstream out(path);
    out << "target: http://x\nsecret: {access_key_id: AKIDEXAMPLE, secret_access_key: abcdefgh}\n";
  }
  ::chmod(path.c_str(), 0644);
  auto r = load_file(path, kNoEnv);
  REQUIRE(r.config);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("readable by group or others") != std::string::npos);
  ::chmod(path.c_str(), 0600);
  CHECK(load_file(path, kNoEnv).warnings.empty());
  std::remove(path.c_str());
  CHECK(has_error(load_file("does-not-exist.yml", kNoEnv), "cannot be read"));
  // Why, and what to do about it.
  CHECK(has_error(load_file("does-not-exist.yml", kNoEnv),
                  "cannot be read: No such file or directory (mount or write the config there, or "
                  "name it with --config or CONNECTOR_CONFIG)"));
}

TEST_CASE("config: a key given twice is an error naming it, not the first one silently") {
  CHECK(has_error(load("target: http://x\nlisten: 127.0.0.1:1\nlisten: 127.0.0.1:2\n"),
                  "listen: is given twice"));
  CHECK(has_error(load("target: http://x\ndelivery: {mode: binary, mode: batch}\n"),
                  "delivery.mode: is given twice"));
  CHECK(has_error(load("target: http://x\ndelivery: {headers: {X-Token: a, x-token: b}}\n"),
                  "delivery.headers.x-token: is given twice"));
}

TEST_CASE("config: forecast and anomalies are off by default, with the SPEC's defaults") {
  auto r = load("target: http://x\n");
  REQUIRE_MESSAGE(r.config, all_errors(r));
  CHECK_FALSE(r.config->forecast.enabled);
  CHECK(r.config->forecast.metric == "UNBLENDED_COST");
  CHECK(r.config->forecast.prediction_interval == 80);
  CHECK_FALSE(r.config->anomalies.enabled);
  CHECK(r.config->anomalies.monitor_arn.empty());
  CHECK(r.config->anomalies.min_impact == 0);
  const std::string shown = render_masked(*r.config);
  CHECK(shown.find("forecast:\n  enabled: false\n  metric: UNBLENDED_COST\n"
                   "  prediction_interval: 80\n") != std::string::npos);
  CHECK(shown.find("anomalies:\n  enabled: false\n  monitor_arn: \"\"\n  min_impact: 0\n") !=
        std::string::npos);
}

TEST_CASE("config: forecast and anomalies read and shown") {
  auto r = load(
      "target: http://x\n"
      "forecast: {enabled: true, metric: NET_AMORTIZED_COST, prediction_interval: 95}\n"
      "anomalies:\n  enabled: yes\n"
      "  monitor_arn: arn:aws:ce::123456789012:anomalymonitor/0a1b2c3d-4e5f\n"
      "  min_impact: 12.5\n");
  REQUIRE_MESSAGE(r.config, all_errors(r));
  const Config& c = *r.config;
  CHECK(c.forecast.enabled);
  CHECK(c.forecast.metric == "NET_AMORTIZED_COST");
  CHECK(c.forecast.prediction_interval == 95);
  CHECK(c.anomalies.enabled);
  CHECK(c.anomalies.monitor_arn == "arn:aws:ce::123456789012:anomalymonitor/0a1b2c3d-4e5f");
  CHECK(c.anomalies.min_impact == 12.5);
  const std::string shown = render_masked(c);
  CHECK(shown.find("min_impact: 12.5\n") != std::string::npos);
  CHECK(shown.find("metric: NET_AMORTIZED_COST\n") != std::string::npos);
  // What --check-config prints reads back as the same config.
  auto again = load(shown);
  REQUIRE_MESSAGE(again.config, all_errors(again));
  CHECK(again.config->anomalies.min_impact == 12.5);
  CHECK(again.config->anomalies.monitor_arn == c.anomalies.monitor_arn);
  CHECK(again.config->forecast.prediction_interval == 95);
}

TEST_CASE("config: forecast and anomalies errors name their key") {
  const std::pair<const char*, const char*> cases[] = {
      {"forecast: {enabled: maybe}\n", "forecast.enabled"},
      {"forecast: {metric: UnblendedCost}\n", "forecast.metric"},
      {"forecast: {metric: USAGE_QUANTITY}\n", "usage metric"},
      {"forecast: {prediction_interval: 50}\n", "forecast.prediction_interval"},
      {"forecast: {prediction_interval: 100}\n", "forecast.prediction_interval"},
      {"forecast: {prediction_interval: 8O}\n", "forecast.prediction_interval"},
      {"forecast: {interval: 80}\n", "forecast.interval"},
      {"forecast: true\n", "forecast"},
      {"anomalies: {monitor_arn: my-monitor}\n", "anomalies.monitor_arn"},
      {"anomalies: {monitor_arn: 'arn:aws:iam::1:role/x'}\n", "anomalies.monitor_arn"},
      {"anomalies: {min_impact: -1}\n", "anomalies.min_impact"},
      {"anomalies: {min_impact: ten}\n", "anomalies.min_impact"},
      {"anomalies: {min_impact: .nan}\n", "anomalies.min_impact"},
      {"anomalies: {min_impact: [1]}\n", "anomalies.min_impact"},
      {"anomalies: {monitor: x}\n", "anomalies.monitor"},
  };
  for (const auto& [yaml, key] : cases) {
    CAPTURE(yaml);
    auto r = load(std::string("target: http://x\n") + yaml);
    CHECK_FALSE(r.config);
    CHECK_MESSAGE(has_error(r, key), all_errors(r));
  }
  auto empty_arn = load("target: http://x\nanomalies: {enabled: true, monitor_arn: ''}\n");
  REQUIRE_MESSAGE(empty_arn.config, all_errors(empty_arn));
  CHECK(empty_arn.config->anomalies.monitor_arn.empty());
}
