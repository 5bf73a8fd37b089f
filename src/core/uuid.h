// Parsing a uuid from text with the syntax PostgreSQL's uuid_in accepts, without
// raising a PostgreSQL error: the caller decides how to report bad input (the
// audit trigger reports a bad chronicle.actor_id as 22P02 naming the setting).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace chronicle {

using Uuid = std::array<std::uint8_t, 16>;

// 32 hex digits (either case), optionally in braces, with an optional '-' after
// any group of four digits but the last; nothing else, no surrounding blanks.
std::optional<Uuid> parse_uuid(std::string_view text);

}  // namespace chronicle
