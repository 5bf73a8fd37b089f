#include "core/post_cursor.h"

#include <gtest/gtest.h>

#include "core/base64url.h"
#include "core/error.h"
#include "stand_in_mac.h"

namespace chronicle::cursor {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

Scope scope_for(std::uint8_t user, const char* status) {
  Scope scope;
  scope.user_id.fill(user);
  scope.all_statuses = status == nullptr;
  scope.status = status == nullptr ? "" : status;
  return scope;
}

Position sample() {
  Position position;
  position.published_at = 830000000000000;  // 2026 in PostgreSQL microseconds
  position.created_at = 829999999000000;
  for (std::size_t i = 0; i < position.id.size(); ++i) position.id[i] = static_cast<std::uint8_t>(0xa0 + i);
  return position;
}

void expect_rejected(std::string_view text, const Scope& scope, const std::string& secret = kSecret) {
  try {
    decode(text, scope, secret, stand_in_mac);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "22023");
    EXPECT_STREQ(e.what(), "invalid cursor");
  }
}

TEST(PostCursor, RoundTrips) {
  const Scope scope = scope_for(1, "published");
  const std::string text = encode(sample(), scope, kSecret, stand_in_mac);
  EXPECT_EQ(text.size(), kCursorLength);
  const Position back = decode(text, scope, kSecret, stand_in_mac);
  EXPECT_FALSE(back.published_at_null);
  EXPECT_EQ(back.published_at, sample().published_at);
  EXPECT_EQ(back.created_at, sample().created_at);
  EXPECT_EQ(back.id, sample().id);
}

TEST(PostCursor, RoundTripsNullPublishedAtAndExtremes) {
  const Scope scope = scope_for(2, nullptr);
  Position position = sample();
  position.published_at_null = true;
  position.published_at = 0;
  position.created_at = INT64_MIN;
  EXPECT_EQ(decode(encode(position, scope, kSecret, stand_in_mac), scope, kSecret, stand_in_mac).created_at, INT64_MIN);
  EXPECT_TRUE(decode(encode(position, scope, kSecret, stand_in_mac), scope, kSecret, stand_in_mac).published_at_null);
  position.published_at_null = false;
  position.published_at = INT64_MAX;
  EXPECT_EQ(decode(encode(position, scope, kSecret, stand_in_mac), scope, kSecret, stand_in_mac).published_at,
            INT64_MAX);
}

TEST(PostCursor, IsBoundToUserStatusAndSecret) {
  const std::string text = encode(sample(), scope_for(1, "published"), kSecret, stand_in_mac);
  expect_rejected(text, scope_for(2, "published"));
  expect_rejected(text, scope_for(1, "draft"));
  expect_rejected(text, scope_for(1, "publishe"));
  expect_rejected(text, scope_for(1, nullptr));
  expect_rejected(text, scope_for(1, "published"), "another secret of enough length!");
  // The status filter "" is not the same scope as "every status".
  expect_rejected(encode(sample(), scope_for(1, ""), kSecret, stand_in_mac), scope_for(1, nullptr));
}

TEST(PostCursor, EveryAlteredCharacterIsRejected) {
  const Scope scope = scope_for(1, "published");
  const std::string text = encode(sample(), scope, kSecret, stand_in_mac);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (char c : {'A', 'z', '-', '_', '9'}) {
      if (text[i] == c) continue;
      std::string altered = text;
      altered[i] = c;
      expect_rejected(altered, scope);
    }
  }
}

TEST(PostCursor, EveryFlippedBitIsRejected) {
  const Scope scope = scope_for(1, "published");
  const std::string bytes = *base64url_decode(encode(sample(), scope, kSecret, stand_in_mac));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string altered = bytes;
      altered[i] = static_cast<char>(altered[i] ^ (1 << bit));
      expect_rejected(base64url_encode(altered), scope);
    }
  }
}

TEST(PostCursor, MalformedTextIsRejected) {
  const Scope scope = scope_for(1, "published");
  const std::string text = encode(sample(), scope, kSecret, stand_in_mac);
  expect_rejected("", scope);
  expect_rejected("x", scope);
  expect_rejected(text.substr(0, text.size() - 1), scope);
  expect_rejected(text + "A", scope);
  expect_rejected(std::string(kCursorLength, '!'), scope);
  std::string padded = text;
  padded.back() = '=';
  expect_rejected(padded, scope);
  std::string with_nul = text;
  with_nul[10] = '\0';
  expect_rejected(with_nul, scope);
  expect_rejected(std::string(kCursorLength, 'A'), scope);  // zeros: wrong version
}

TEST(PostCursor, ShortSecretIsAnInternalError) {
  try {
    encode(sample(), scope_for(1, "published"), "short", stand_in_mac);
    ADD_FAILURE() << "a short secret was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "XX000");
  }
}

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 70; ++length) {
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes);
    bytes.push_back(static_cast<char>(length * 37 + 5));
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64url, RejectsNonCanonicalText) {
  EXPECT_FALSE(base64url_decode("A"));   // impossible length
  EXPECT_FALSE(base64url_decode("AB"));  // unused bits set
  EXPECT_TRUE(base64url_decode("AA"));
  EXPECT_FALSE(base64url_decode("AA=="));  // padding
  EXPECT_FALSE(base64url_decode("A+/A"));  // base64, not base64url
}

}  // namespace
}  // namespace chronicle::cursor
