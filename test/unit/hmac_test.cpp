// HMAC-SHA-256 itself is PostgreSQL's (src/pg/hmac_sha256.cpp); its RFC 4231
// vectors run in the server (sql/boundary_hmac.sql). Here: the tag comparison.
#include "core/hmac.h"

#include <gtest/gtest.h>

namespace chronicle {
namespace {

TEST(ConstantTimeEqual, ComparesEveryByte) {
  const std::uint8_t a[4] = {1, 2, 3, 4};
  const std::uint8_t b[4] = {1, 2, 3, 5};
  EXPECT_TRUE(constant_time_equal(a, a, 4));
  EXPECT_FALSE(constant_time_equal(a, b, 4));
  EXPECT_TRUE(constant_time_equal(a, b, 3));
}

}  // namespace
}  // namespace chronicle
