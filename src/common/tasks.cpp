#include "common/tasks.hpp"

#include <stdexcept>

#include "common/log.hpp"

namespace sab::common {

std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown error";
  }
}

bool log_task_failure(std::string_view task, const std::exception_ptr& e,
                      const std::function<void()>& count) {
  if (!e) return false;
  log::error("task failed", {{"task", task}, {"error", describe(e)}});
  if (count) count();
  return true;
}

}  // namespace sab::common
