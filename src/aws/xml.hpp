#pragma once

// The little XML the AWS query APIs answer with (STS credentials, error bodies): no parser, just
// the text of an element. Pure.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sab::aws {

// The text between <tag> and </tag> (first occurrence at or after `from`), XML entities decoded.
std::optional<std::string> xml_element(std::string_view xml, std::string_view tag,
                                       std::size_t from = 0);

}  // namespace sab::aws
