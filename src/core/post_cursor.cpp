#include "core/post_cursor.h"

#include <cstring>

#include "core/base64url.h"
#include "core/error.h"

namespace chronicle::cursor {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kPublishedAtNull = 0x01;
constexpr std::size_t kSignedBytes = 34;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kTotalBytes = kSignedBytes + kTagBytes;
// Keeps tags of this format apart from anything else the secret might sign.
constexpr std::string_view kDomain = "chronicle get_user_posts_keyset cursor v1";

void put_int64(std::uint8_t* out, std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
}

std::int64_t get_int64(const std::uint8_t* in) {
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | in[i];
  return static_cast<std::int64_t>(bits);
}

HmacSha256Tag tag_of(const std::uint8_t* signed_bytes, const Scope& scope, std::string_view secret, HmacSha256 hmac) {
  if (secret.size() < kMinSecretBytes) {
    throw Error(sqlstate::kInternalError, "the cursor secret is too short");
  }
  std::string message(kDomain);
  message.append(reinterpret_cast<const char*>(signed_bytes), kSignedBytes);
  message.append(reinterpret_cast<const char*>(scope.user_id.data()), scope.user_id.size());
  // Length-prefixed, so that no two scopes share a message.
  message.push_back(scope.all_statuses ? '\0' : '\1');
  if (!scope.all_statuses) {
    const auto length = static_cast<std::uint32_t>(scope.status.size());
    for (int i = 0; i < 4; ++i) message.push_back(static_cast<char>(length >> (24 - 8 * i)));
    message.append(scope.status);
  }
  return hmac(secret, message);
}

[[noreturn]] void reject(const char* detail) {
  throw Error(sqlstate::kInvalidParameterValue, "invalid cursor")
      .detail(detail)
      .hint("Pass the next_cursor of a previous page for the same user and status, or NULL for the first page.");
}

}  // namespace

std::string encode(const Position& position, const Scope& scope, std::string_view secret, HmacSha256 hmac) {
  std::uint8_t bytes[kTotalBytes] = {};
  bytes[0] = kVersion;
  bytes[1] = position.published_at_null ? kPublishedAtNull : 0;
  put_int64(bytes + 2, position.published_at_null ? 0 : position.published_at);
  put_int64(bytes + 10, position.created_at);
  std::memcpy(bytes + 18, position.id.data(), position.id.size());
  const HmacSha256Tag tag = tag_of(bytes, scope, secret, hmac);
  std::memcpy(bytes + kSignedBytes, tag.data(), kTagBytes);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), kTotalBytes));
}

Position decode(std::string_view text, const Scope& scope, std::string_view secret, HmacSha256 hmac) {
  if (text.size() != kCursorLength) reject("A cursor has 67 characters.");
  const std::optional<std::string> decoded = base64url_decode(text);
  if (!decoded || decoded->size() != kTotalBytes) reject("A cursor is base64url text.");
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(decoded->data());
  if (bytes[0] != kVersion) reject("The cursor's format version is unknown.");
  const HmacSha256Tag tag = tag_of(bytes, scope, secret, hmac);
  if (!constant_time_equal(tag.data(), bytes + kSignedBytes, kTagBytes)) {
    reject("The cursor was not issued for this user and status, or it was altered.");
  }
  // Signed by us, so well-formed; checked all the same.
  if ((bytes[1] & ~kPublishedAtNull) != 0) reject("The cursor's flags are unknown.");
  Position position;
  position.published_at_null = (bytes[1] & kPublishedAtNull) != 0;
  position.published_at = get_int64(bytes + 2);
  if (position.published_at_null && position.published_at != 0) reject("The cursor's sort key is inconsistent.");
  position.created_at = get_int64(bytes + 10);
  std::memcpy(position.id.data(), bytes + 18, position.id.size());
  return position;
}

}  // namespace chronicle::cursor
