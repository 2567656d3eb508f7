#include "aws/retry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>

namespace sab::aws {

UnitRandom default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit) {
  if (!(unit >= 0.0)) unit = 0.0;  // also NaN
  if (unit > 1.0) unit = 1.0;
  const double base = static_cast<double>(std::max<std::int64_t>(policy.base.count(), 0));
  const double cap = static_cast<double>(std::max<std::int64_t>(policy.cap.count(), 0));
  const double exp = std::ldexp(base, std::clamp(retry, 0, 62));
  const double ceiling = std::min(cap, exp);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::floor(ceiling * unit)));
}

std::string_view metric_result(FailureKind kind) {
  switch (kind) {
    case FailureKind::throttled:
      return "throttled";
    case FailureKind::server_error:
      return "server_error";
    case FailureKind::transport_error:
    case FailureKind::permanent_transport:
      return "transport_error";
    case FailureKind::bad_response:
      return "bad_response";
    case FailureKind::auth_error:
      return "auth_error";
    case FailureKind::client_error:
    case FailureKind::restart:
      return "client_error";
  }
  return "client_error";
}

Action next_action(const RetryPolicy& policy, FailureKind kind, int retries_done, bool restarted,
                   int bad_response_retries) {
  switch (kind) {
    case FailureKind::throttled:
    case FailureKind::server_error:
    case FailureKind::transport_error:
      return retries_done < policy.max_retries ? Action::retry : Action::fail;
    case FailureKind::bad_response:
      return retries_done < policy.max_retries &&
                     bad_response_retries < policy.max_bad_response_retries
                 ? Action::retry
                 : Action::fail;
    case FailureKind::restart:
      return restarted ? Action::fail : Action::restart;
    case FailureKind::auth_error:
    case FailureKind::client_error:
    case FailureKind::permanent_transport:
      return Action::fail;
  }
  return Action::fail;
}

}  // namespace sab::aws
