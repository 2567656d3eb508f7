// Fuzz target: the error-body parser (aws::parse_error) and the error classification.
// Input: "<status>\n<x-amzn-ErrorType header>\n<body>" (missing parts are empty).
// Property: never throws; the type is normalized (no '#', no ':', no surrounding blanks); the
// message is bounded; classify() gives one of the known classes.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/cost_explorer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto line = [&in]() {
    const auto nl = in.find('\n');
    const std::string_view out = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    return out;
  };
  const std::string_view status_text = line();
  unsigned status = 0;
  std::from_chars(status_text.data(), status_text.data() + status_text.size(), status);
  const std::string_view header = line();
  const std::string_view body = in;

  sab::aws::AwsError error;
  try {
    error = sab::aws::parse_error(status, header, body);
  } catch (...) {
    std::abort();  // documented as never throwing
  }
  if (error.status != status) std::abort();
  if (error.type.find_first_of("#:") != std::string::npos) std::abort();
  if (!error.type.empty() && (error.type.front() == ' ' || error.type.back() == ' ' ||
                              error.type.front() == '\t' || error.type.back() == '\t')) {
    std::abort();
  }
  if (error.message.size() > 512) std::abort();
  const auto c = sab::aws::classify(error);
  const std::string_view name = sab::aws::to_string(c);
  if (name != "throttling" && name != "server" && name != "auth" && name != "restart" &&
      name != "client") {
    std::abort();
  }
  return 0;
}
