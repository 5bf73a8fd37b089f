// The opaque cursor of get_user_posts_keyset: where the next page starts, signed
// for the user and status it was issued for.
//
// Layout (50 bytes, base64url: 67 characters): version (1), flags (1: bit 0 =
// published_at is NULL), published_at (8, big-endian microseconds, 0 when NULL),
// created_at (8), id (16), tag (16). The tag is HMAC-SHA-256, truncated to 128
// bits, under a per-database secret, over a domain label, the first 34 bytes,
// the user id and the status filter. So a cursor cannot be forged or altered
// (2^-128 per guess), nor replayed for another user or status; it reveals the
// sort key of one row the caller could read anyway. Every defect is 22023.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/hmac.h"

namespace chronicle::cursor {

// A row's position in published_at DESC NULLS LAST, created_at DESC, id DESC.
struct Position {
  bool published_at_null = false;
  std::int64_t published_at = 0;  // PostgreSQL timestamp (microseconds); 0 when NULL
  std::int64_t created_at = 0;
  std::array<std::uint8_t, 16> id{};
};

// What a cursor is valid for.
struct Scope {
  std::array<std::uint8_t, 16> user_id{};
  bool all_statuses = false;  // p_status NULL
  std::string_view status;    // when !all_statuses
};

inline constexpr std::size_t kMinSecretBytes = 16;
inline constexpr std::size_t kCursorLength = 67;

// The cursor text. `secret` has at least kMinSecretBytes bytes; `hmac` computes
// HMAC-SHA-256 (the extension passes PostgreSQL's, pg::hmac_sha256).
std::string encode(const Position& position, const Scope& scope, std::string_view secret, HmacSha256 hmac);

// The position a cursor carries; throws chronicle::Error 22023 when the text is
// not a cursor this secret issued for this scope.
Position decode(std::string_view text, const Scope& scope, std::string_view secret, HmacSha256 hmac);

}  // namespace chronicle::cursor
