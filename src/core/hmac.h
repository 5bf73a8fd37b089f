// HMAC-SHA-256 as the pure C++ core sees it: a function it is handed. The
// extension hands it PostgreSQL's (pg_hmac_*, src/pg/hmac_sha256.h); the unit
// tests hand it a stand-in. Cursors are signed with it (core/post_cursor.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chronicle {

using HmacSha256Tag = std::array<std::uint8_t, 32>;

// HMAC-SHA-256 of `message` under `key` (any length). May throw.
using HmacSha256 = HmacSha256Tag (*)(std::string_view key, std::string_view message);

// Compares two byte strings in time that depends on their length only.
bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t length);

}  // namespace chronicle
