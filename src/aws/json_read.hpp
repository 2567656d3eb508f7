#pragma once

// Reading Cost Explorer answers with simdjson On-Demand: every lookup that fails becomes one
// ResponseError naming what was wrong, for the parsers of every operation.

#include <simdjson.h>

#include <string>
#include <string_view>
#include <utility>

#include "aws/cost_explorer.hpp"

namespace sab::aws::detail {

[[noreturn]] inline void fail(std::string_view what) {
  throw ResponseError("malformed Cost Explorer response: " + std::string(what));
}

[[noreturn]] inline void fail(std::string_view what, simdjson::error_code ec) {
  fail(std::string(what) + " (" + simdjson::error_message(ec) + ")");
}

// The value of a simdjson result, or a ResponseError naming `what`.
template <class T, class R>
T take(R&& result, std::string_view what) {
  T value;
  if (auto ec = std::forward<R>(result).get(value)) fail(what, ec);
  return value;
}

inline std::string_view key_of(simdjson::ondemand::field& field) {
  return take<std::string_view>(field.unescaped_key(), "object key");
}

}  // namespace sab::aws::detail
