#pragma once

// How the config shows secrets: the masks for a URL's password, an access key id and other
// secret values. The effective config printed with them (render_masked) and the list of secret
// values for log redaction (secret_values), both declared in config.hpp, live in render.cpp.

#include <string>
#include <string_view>

namespace sab::config::detail {

inline constexpr std::string_view kMask = "******";

// The URL with its password masked; text that is no URL is masked whole when it holds an '@'.
std::string mask_url(const std::string& text);

}  // namespace sab::config::detail
