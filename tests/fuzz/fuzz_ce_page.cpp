// Fuzz target: the Cost Explorer response parser (aws::parse_page).
// Input: a response body. Property: it parses or throws aws::ResponseError; nothing else escapes
// (any other exception reaches libFuzzer as a crash), and what it returns is consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "aws/cost_explorer.hpp"
#include "common/dates.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  const std::string original = body;
  try {
    const sab::aws::Page page = sab::aws::parse_page(body);
    for (const auto& period : page.periods) {
      // Both days were parsed from strict YYYY-MM-DD strings.
      if (sab::common::format_date(period.start).size() != 10) std::abort();
      if (sab::common::format_date(period.end).size() != 10) std::abort();
    }
  } catch (const sab::aws::ResponseError& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  // The parser may add capacity to the body, never change it.
  if (body != original) std::abort();
  return 0;
}
