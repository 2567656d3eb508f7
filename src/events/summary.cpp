#include "events/summary.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

#include "common/dates.hpp"
#include "common/json.hpp"
#include "events/mapping.hpp"

namespace sab::events {
namespace {

std::string hex(const unsigned char* bytes, unsigned length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{2} * length);
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xF]);
  }
  return out;
}

// Streams text into one SHA-256.
class Sha256 {
 public:
  Sha256() {
    if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, EVP_sha256(), nullptr) != 1) fail();
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view text) {
    if (EVP_DigestUpdate(ctx_, text.data(), text.size()) != 1) fail();
  }
  std::string hex_digest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_, digest, &length) != 1) fail();
    return hex(digest, length);
  }

 private:
  [[noreturn]] static void fail() { throw std::runtime_error("SHA-256 digest failed"); }
  EVP_MD_CTX* ctx_ = EVP_MD_CTX_new();
};

}  // namespace

void PeriodTally::add_period(const common::CostPeriod& period, const std::vector<Event>& events,
                             const std::vector<bool>& as_before) {
  estimated_ = period.estimated;
  const auto id_of = [&](std::size_t i) -> const Uuid& {
    return i < as_before.size() && as_before[i] ? events[i].amounts : events[i].id_bytes;
  };
  if (period.groups.empty()) {
    // make_events gives the totals' event only then.
    if (!events.empty()) add(id_of(0), period.total);
    return;
  }
  for (std::size_t i = 0; i < events.size() && i < period.groups.size(); ++i)
    add(id_of(i), period.groups[i].metrics);
}

void PeriodTally::add(const Uuid& id, const std::vector<common::MetricValue>& metrics) {
  ids_.push_back(id);
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const auto& m = metrics[i];
    // Every group lists the same metrics in the same order: try the same position first.
    auto metric = i < totals_.size() && totals_[i].first == m.name
                      ? totals_.begin() + static_cast<std::ptrdiff_t>(i)
                      : std::find_if(totals_.begin(), totals_.end(),
                                     [&](const auto& t) { return t.first == m.name; });
    if (metric == totals_.end()) metric = totals_.insert(totals_.end(), {m.name, {}});
    auto& units = metric->second;
    auto unit =
        std::find_if(units.begin(), units.end(), [&](const auto& u) { return u.first == m.unit; });
    if (unit == units.end()) unit = units.insert(units.end(), {m.unit, DecimalSum{}});
    if (!unit->second.add(m.amount)) ++bad_amounts_;
  }
}

std::string PeriodTally::ids_digest() const {
  // Sorting the 16 bytes sorts the text forms alike: fixed-width lower-case hex, dashes in place.
  auto sorted = ids_;
  std::sort(sorted.begin(), sorted.end());
  Sha256 sha;
  // The text forms, '\n' between them, hashed a block of ids at a time.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string block;
  block.reserve(std::size_t{37} * 256);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i != 0) block.push_back('\n');
    for (std::size_t b = 0; b < sorted[i].size(); ++b) {
      if (b == 4 || b == 6 || b == 8 || b == 10) block.push_back('-');
      block.push_back(kHex[sorted[i][b] >> 4]);
      block.push_back(kHex[sorted[i][b] & 0x0F]);
    }
    if (block.size() >= std::size_t{36} * 255) {
      sha.update(block);
      block.clear();
    }
  }
  sha.update(block);
  return sha.hex_digest();
}

std::string PeriodTally::totals_json() const {
  std::string out = "{";
  for (const auto& [metric, units] : totals_) {
    if (out.size() > 1) out.push_back(',');
    common::append_json_string(out, camel_case(metric));
    out += ":[";
    auto sorted = units;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      if (i != 0) out.push_back(',');
      out += "{\"amount\":";
      common::append_json_string(out, sorted[i].second.str());
      out += ",\"unit\":";
      common::append_json_string(out, sorted[i].first);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

std::string summary_type(config::Granularity granularity) {
  return granularity == config::Granularity::monthly ? "aws.billing.summary.monthly"
                                                     : "aws.billing.summary.daily";
}

Event make_summary(std::chrono::sys_days start, const PeriodTally& tally,
                   const std::vector<config::GroupBy>& group_by, config::Granularity granularity,
                   std::chrono::system_clock::time_point now) {
  const std::string date = common::format_date(start);
  const std::string digest = tally.ids_digest();
  Event event;
  event.source.assign(kSource);
  event.type = summary_type(granularity);
  event.subject = date;
  event.time = rfc3339(now);
  event.estimated = tally.estimated();

  std::string& data = event.data;
  data = "{\"date\":";
  common::append_json_string(data, date);
  data += ",\"groupBy\":[";
  for (std::size_t i = 0; i < group_by.size(); ++i) {
    if (i != 0) data.push_back(',');
    data += "{\"type\":";
    common::append_json_string(data, group_by[i].type);
    data += ",\"key\":";
    common::append_json_string(data, group_by[i].key);
    data.push_back('}');
  }
  data += "],\"groups\":" + std::to_string(tally.groups());
  data += tally.estimated() ? ",\"estimated\":true" : ",\"estimated\":false";
  data += ",\"totals\":" + tally.totals_json();
  data += ",\"eventIds\":";
  common::append_json_string(data, digest);
  data.push_back('}');

  const std::string groups = std::to_string(tally.groups());
  const std::string_view flag = tally.estimated() ? "estimated" : "final";
  std::string name;
  for (std::string_view field : {kSource, std::string_view(event.type), std::string_view(date),
                                 flag, std::string_view(groups), std::string_view(digest)}) {
    append_id_field(name, field);
  }
  event.id = to_string(uuid_v5(kEventNamespace, name));
  return event;
}

}  // namespace sab::events
