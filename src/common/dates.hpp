#pragma once

// Calendar days as the product writes them everywhere (CLI, state file, Cost Explorer periods,
// event subjects): strict YYYY-MM-DD, UTC days.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sab::common {

using Day = std::chrono::sys_days;

// A strict YYYY-MM-DD calendar date from 1970 on; nullopt for anything else.
std::optional<Day> parse_date(std::string_view text);
// "2023-01-15".
std::string format_date(Day day);

}  // namespace sab::common
