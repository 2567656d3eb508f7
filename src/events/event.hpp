#pragma once

// One CloudEvent as the service builds it: the context attributes and the data as JSON text,
// ready for any content mode.

#include <string>

#include "events/uuid.hpp"

namespace sab::events {

inline constexpr std::string_view kSpecVersion = "1.0";
inline constexpr std::string_view kSource = "cloud.aws.billing";
inline constexpr std::string_view kJsonContentType = "application/json";

// One CloudEvent (spec version 1.0) as this service makes it. `data` holds the JSON text of the
// data (when datacontenttype is JSON) or the raw payload otherwise; it is encoded only when sent.
struct Event {
  std::string id;
  std::string source;
  std::string type;
  std::string subject;
  std::string time;  // RFC 3339, UTC
  std::string datacontenttype = std::string(kJsonContentType);
  bool estimated = false;  // extension attribute "estimated"
  std::string data;
  // A group event's id without the estimated flag: the digest of its amounts, which restatement
  // compares (zero for other events).
  Uuid amounts{};
  // A group event's id as bytes (what a summary hashes), so it is never parsed back.
  Uuid id_bytes{};

  bool operator==(const Event&) const = default;
};

}  // namespace sab::events
