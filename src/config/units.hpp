#pragma once

// Durations and byte sizes as the config writes them ("10s", "64KiB"): parsed strictly, and
// formatted back for the effective config.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sab::config {

// "500ms", "10s", "2m", "1h", "1m30s". A bare number is rejected: the unit must be explicit.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "1024", "64KiB", "256MiB", "1GiB", "10MB" (decimal units are powers of 1000).
std::optional<std::uint64_t> parse_size(std::string_view text);

std::string format_duration(std::chrono::milliseconds d);
std::string format_size(std::uint64_t bytes);

}  // namespace sab::config
