#include "core/uuid.h"

#include <gtest/gtest.h>

using chronicle::parse_uuid;

TEST(ParseUuid, AcceptsTheFormsUuidInAccepts) {
  const auto canonical = parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  ASSERT_TRUE(canonical);
  EXPECT_EQ((*canonical)[0], 0xa0);
  EXPECT_EQ((*canonical)[15], 0x11);
  EXPECT_EQ(parse_uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), canonical);
  EXPECT_EQ(parse_uuid("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"), canonical);
  EXPECT_EQ(parse_uuid("a0eebc999c0b4ef8bb6d6bb9bd380a11"), canonical);
  EXPECT_EQ(parse_uuid("a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"), canonical);
  EXPECT_EQ(parse_uuid("{a0eebc999c0b4ef8bb6d6bb9bd380a11}"), canonical);
}

TEST(ParseUuid, RefusesEverythingElse) {
  EXPECT_FALSE(parse_uuid(""));
  EXPECT_FALSE(parse_uuid("not-a-uuid"));
  EXPECT_FALSE(parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"));    // 31 digits
  EXPECT_FALSE(parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111"));  // 33 digits
  EXPECT_FALSE(parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-"));  // trailing hyphen
  EXPECT_FALSE(parse_uuid("a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11"));  // hyphen inside a group
  EXPECT_FALSE(parse_uuid("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));  // unclosed brace
  EXPECT_FALSE(parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"));  // stray brace
  EXPECT_FALSE(parse_uuid(" a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));  // blank
  EXPECT_FALSE(parse_uuid("g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));   // not hex
}
