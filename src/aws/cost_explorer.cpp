#include "aws/cost_explorer.hpp"

#include <simdjson.h>

#include <boost/json.hpp>

#include "aws/json_read.hpp"
#include "aws/xml.hpp"
#include "common/dates.hpp"

namespace sab::aws {

namespace od = simdjson::ondemand;

std::string build_request_body(const config::Config& config, const TimePeriod& period,
                               std::string_view next_page_token) {
  if (period.end <= period.start) {
    throw std::invalid_argument("empty time period " + common::format_date(period.start) + " .. " +
                                common::format_date(period.end));
  }
  boost::json::object body;
  body["TimePeriod"] = {{"Start", common::format_date(period.start)},
                        {"End", common::format_date(period.end)}};
  body["Granularity"] = config.granularity == config::Granularity::monthly ? "MONTHLY" : "DAILY";
  boost::json::array metrics;
  for (const auto& m : config.metrics)
    metrics.emplace_back(m);
  body["Metrics"] = std::move(metrics);
  if (!config.group_by.empty()) {
    boost::json::array group_by;
    for (const auto& g : config.group_by) {
      group_by.emplace_back(boost::json::object{{"Type", g.type}, {"Key", g.key}});
    }
    body["GroupBy"] = std::move(group_by);
  }
  if (!config.filter_json.empty()) {
    boost::system::error_code ec;
    auto filter = boost::json::parse(config.filter_json, ec);
    if (ec || !filter.is_object()) {
      throw std::invalid_argument("filter is not a JSON object: " +
                                  (ec ? ec.message() : std::string("not an object")));
    }
    body["Filter"] = std::move(filter);
  }
  if (!next_page_token.empty()) body["NextPageToken"] = next_page_token;
  return boost::json::serialize(body);
}

namespace {

using detail::fail;
using detail::key_of;
using detail::take;

// {"UnblendedCost": {"Amount": "1.0", "Unit": "USD"}, ...}. A group's metrics become events, so
// each must have an Amount and a Unit (`complete`); a period's Total is not used for events.
void parse_metrics(od::value value, std::vector<common::MetricValue>& out, bool complete) {
  od::object obj = take<od::object>(value.get_object(), "metrics must be an object");
  for (auto field_result : obj) {
    od::field field = take<od::field>(std::move(field_result), "metrics field");
    common::MetricValue metric;
    metric.name = std::string(key_of(field));
    bool have_amount = false, have_unit = false;
    od::object m = take<od::object>(field.value().get_object(), "metric value must be an object");
    for (auto inner_result : m) {
      od::field inner = take<od::field>(std::move(inner_result), "metric field");
      const std::string_view key = key_of(inner);
      if (key == "Amount") {
        metric.amount =
            std::string(take<std::string_view>(inner.value().get_string(), "Amount string"));
        have_amount = true;
      } else if (key == "Unit") {
        metric.unit = std::string(take<std::string_view>(inner.value().get_string(), "Unit"));
        have_unit = true;
      }
    }
    if (complete && !have_amount) fail("metric '" + metric.name + "' of a group has no Amount");
    if (complete && !have_unit) fail("metric '" + metric.name + "' of a group has no Unit");
    out.push_back(std::move(metric));
  }
}

// `like`: the previous group of the period, whose sizes this one almost always has (a vector
// grown one by one reallocates four times for five metrics).
common::CostGroup parse_group(od::value value, const common::CostGroup* like) {
  common::CostGroup group;
  if (like != nullptr) {
    group.keys.reserve(like->keys.size());
    group.metrics.reserve(like->metrics.size());
  }
  od::object obj = take<od::object>(value.get_object(), "group must be an object");
  for (auto field_result : obj) {
    od::field field = take<od::field>(std::move(field_result), "group field");
    const std::string_view key = key_of(field);
    if (key == "Keys") {
      od::array keys = take<od::array>(field.value().get_array(), "Keys must be an array");
      for (auto k : keys) {
        group.keys.emplace_back(take<std::string_view>(k.get_string(), "group key"));
      }
    } else if (key == "Metrics") {
      parse_metrics(field.value(), group.metrics, true);
    }
  }
  return group;
}

// TimePeriod {Start, End} into `period`; a missing date is an error of the caller's.
void parse_time_period(od::value value, common::CostPeriod& period, bool& have_start,
                       bool& have_end) {
  od::object tp = take<od::object>(value.get_object(), "TimePeriod");
  for (auto tp_result : tp) {
    od::field f = take<od::field>(std::move(tp_result), "TimePeriod field");
    const std::string_view k = key_of(f);
    if (k != "Start" && k != "End") continue;
    const auto text = take<std::string_view>(f.value().get_string(), "TimePeriod date");
    const auto day = common::parse_date(text);
    if (!day) fail("TimePeriod." + std::string(k) + " '" + std::string(text) + "'");
    const bool start = k == "Start";
    (start ? period.start : period.end) = *day;
    (start ? have_start : have_end) = true;
  }
}

void parse_groups(od::value value, common::CostPeriod& period) {
  od::array groups = take<od::array>(value.get_array(), "Groups must be an array");
  for (auto g : groups) {
    const common::CostGroup* like = period.groups.empty() ? nullptr : &period.groups.back();
    period.groups.push_back(parse_group(take<od::value>(g, "group"), like));
  }
}

common::CostPeriod parse_period(od::value value) {
  common::CostPeriod period;
  bool have_start = false, have_end = false;
  od::object obj = take<od::object>(value.get_object(), "ResultsByTime entry must be an object");
  for (auto field_result : obj) {
    od::field field = take<od::field>(std::move(field_result), "ResultsByTime field");
    const std::string_view key = key_of(field);
    if (key == "TimePeriod") {
      parse_time_period(field.value(), period, have_start, have_end);
    } else if (key == "Total") {
      parse_metrics(field.value(), period.total, false);
    } else if (key == "Groups") {
      parse_groups(field.value(), period);
    } else if (key == "Estimated") {
      period.estimated = take<bool>(field.value().get_bool(), "Estimated must be a boolean");
    }
  }
  if (!have_start || !have_end) fail("ResultsByTime entry without TimePeriod Start/End");
  return period;
}

// The type and message of a JSON error body ({"__type": ..., "message": ...}); best effort: a
// body that is not what AWS sends leaves them as they are.
void parse_json_error(std::string_view head, AwsError& out) {
  simdjson::padded_string padded(head);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    return;
  }
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      break;
    }
    const bool is_type = key == "__type" || key == "code" || key == "Code";
    const bool is_message = key == "message" || key == "Message";
    std::string_view value;
    if ((!is_type && !is_message) || field.value().get_string().get(value) != simdjson::SUCCESS) {
      continue;
    }
    if (is_message) {
      out.message = std::string(value);
    } else if (out.type.empty()) {
      out.type = normalize_error_type(value);
    }
  }
}

// DimensionValueAttributes: [{"Value": "<id>", "Attributes": {"description": "<name>"}}, ...]
void parse_account_names(od::value value, std::vector<std::pair<std::string, std::string>>& out) {
  od::array entries =
      take<od::array>(value.get_array(), "DimensionValueAttributes must be an array");
  for (auto entry_result : entries) {
    od::object entry =
        take<od::object>(entry_result.get_object(), "DimensionValueAttributes entry");
    std::string id, name;
    for (auto field_result : entry) {
      od::field field = take<od::field>(std::move(field_result), "DimensionValueAttributes field");
      const std::string_view key = key_of(field);
      if (key == "Value") {
        id = take<std::string_view>(field.value().get_string(), "DimensionValueAttributes Value");
      } else if (key == "Attributes") {
        od::object attributes = take<od::object>(field.value().get_object(), "Attributes");
        for (auto a : attributes) {
          od::field f = take<od::field>(std::move(a), "Attributes field");
          if (key_of(f) != "description") continue;
          name = take<std::string_view>(f.value().get_string(), "Attributes description");
        }
      }
    }
    if (!id.empty() && !name.empty()) out.emplace_back(std::move(id), std::move(name));
  }
}

// GroupDefinitions: [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, ...] -> the index of
// LINKED_ACCOUNT among the group keys, if it is there.
std::optional<std::size_t> linked_account_index(od::value value) {
  od::array definitions = take<od::array>(value.get_array(), "GroupDefinitions must be an array");
  std::size_t index = 0;
  std::optional<std::size_t> found;
  for (auto d : definitions) {
    od::object definition = take<od::object>(d.get_object(), "GroupDefinitions entry");
    std::string type, key;
    for (auto field_result : definition) {
      od::field field = take<od::field>(std::move(field_result), "GroupDefinitions field");
      const std::string_view k = key_of(field);
      if (k == "Type" || k == "Key") {
        (k == "Type" ? type : key) =
            take<std::string_view>(field.value().get_string(), "GroupDefinitions value");
      }
    }
    if (type == "DIMENSION" && key == "LINKED_ACCOUNT" && !found) found = index;
    ++index;
  }
  return found;
}

// Each group of the page gets its account's name (pages carry their own attributes).
void name_accounts(Page& page, std::optional<std::size_t> index,
                   std::vector<std::pair<std::string, std::string>>& names) {
  if (!index || names.empty()) return;
  std::sort(names.begin(), names.end());
  for (auto& period : page.periods) {
    for (auto& group : period.groups) {
      if (*index >= group.keys.size()) continue;
      const std::string& id = group.keys[*index];
      auto it =
          std::lower_bound(names.begin(), names.end(), id,
                           [](const auto& entry, const std::string& v) { return entry.first < v; });
      if (it != names.end() && it->first == id) group.account_name = it->second;
    }
  }
}

}  // namespace

Page parse_page(std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  // A parser per page: its buffers are sized to the page and freed with it, so one huge page
  // does not pin its memory for the life of the process.
  od::parser parser;
  Page page;
  od::document doc;
  if (auto ec = parser.iterate(body.data(), body.size(), body.capacity()).get(doc)) {
    fail("not JSON", ec);
  }
  od::object root = take<od::object>(doc.get_object(), "the top level must be an object");
  bool have_results = false;
  std::optional<std::size_t> account_index;
  std::vector<std::pair<std::string, std::string>> account_names;
  for (auto field_result : root) {
    od::field field = take<od::field>(std::move(field_result), "top-level field");
    const std::string_view key = key_of(field);
    if (key == "ResultsByTime") {
      have_results = true;
      od::array results =
          take<od::array>(field.value().get_array(), "ResultsByTime must be an array");
      for (auto r : results) {
        page.periods.push_back(parse_period(take<od::value>(r, "ResultsByTime")));
      }
    } else if (key == "GroupDefinitions") {
      account_index = linked_account_index(field.value());
    } else if (key == "DimensionValueAttributes") {
      parse_account_names(field.value(), account_names);
    } else if (key == "NextPageToken") {
      od::value v = field.value();
      bool is_null = false;
      if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) continue;
      page.next_page_token =
          std::string(take<std::string_view>(v.get_string(), "NextPageToken must be a string"));
    }
  }
  if (!have_results) fail("no ResultsByTime");
  name_accounts(page, account_index, account_names);
  return page;
}

// --- errors ----------------------------------------------------------------------------------

std::string normalize_error_type(std::string_view raw) {
  const auto hash = raw.rfind('#');
  if (hash != std::string_view::npos) raw.remove_prefix(hash + 1);
  const auto colon = raw.find(':');
  if (colon != std::string_view::npos) raw = raw.substr(0, colon);
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t'))
    raw.remove_prefix(1);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t'))
    raw.remove_suffix(1);
  return std::string(raw);
}

AwsError parse_error(unsigned status, std::string_view error_type_header, std::string_view body) {
  AwsError out;
  out.status = status;
  out.type = normalize_error_type(error_type_header);
  // Error bodies are small; look at the first 64 KiB only.
  const std::string_view head = body.substr(0, std::size_t{64} * 1024);
  const std::size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && head[first] == '{') {
    parse_json_error(head, out);
  } else if (first != std::string_view::npos && head[first] == '<') {
    if (out.type.empty()) out.type = normalize_error_type(xml_element(head, "Code").value_or(""));
    out.message = xml_element(head, "Message").value_or("");
  }
  if (out.message.size() > 512) out.message.resize(512);
  return out;
}

std::string_view to_string(ErrorClass c) {
  switch (c) {
    case ErrorClass::throttling:
      return "throttling";
    case ErrorClass::server:
      return "server";
    case ErrorClass::auth:
      return "auth";
    case ErrorClass::restart:
      return "restart";
    case ErrorClass::client:
      return "client";
  }
  return "client";
}

ErrorClass classify(const AwsError& e) {
  const std::string& t = e.type;
  if (t == "LimitExceededException" || t == "ThrottlingException" || t == "Throttling" ||
      t == "TooManyRequestsException" || t == "RequestLimitExceeded") {
    return ErrorClass::throttling;
  }
  if (t == "UnrecognizedClientException" || t == "InvalidClientTokenId" ||
      t == "SignatureDoesNotMatch" || t == "AccessDeniedException" || t == "AccessDenied" ||
      t == "ExpiredTokenException" || t == "ExpiredToken" || t == "IncompleteSignature" ||
      t == "MissingAuthenticationToken" || t == "InvalidSignatureException" || t == "AuthFailure") {
    return ErrorClass::auth;
  }
  if (t == "InvalidNextTokenException" || t == "RequestChangedException") {
    return ErrorClass::restart;
  }
  if (e.status == 429) return ErrorClass::throttling;
  if (e.status >= 500) return ErrorClass::server;
  if (e.status == 401 || e.status == 403) return ErrorClass::auth;
  return ErrorClass::client;
}

}  // namespace sab::aws
