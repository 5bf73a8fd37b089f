// Reading one user's posts in the API's order: shared by get_user_posts (offset
// pages) and get_user_posts_keyset (cursor pages).
#pragma once

#include "pg/postgres_headers.h"

#include "pg/spi.h"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/uuid.h"
}

namespace chronicle::posts {

// A position in the order published_at DESC NULLS LAST, created_at DESC, id DESC.
struct SortKey {
  bool published_at_null;
  Timestamp published_at;  // unused when published_at_null
  Timestamp created_at;
  pg_uuid_t id;
};

// A key at or before every row: the first page starts here.
SortKey first_key();

struct UserPostsScope {
  Oid schema;
  Datum user_id;
  bool by_status;  // false: every status
  Datum status;    // varchar, when by_status
};

// Columns of a page row (1-based, as SPI numbers them).
namespace page_column {
inline constexpr int kId = 1, kTitle = 2, kContent = 3, kStatus = 4, kPublishedAt = 5, kViewCount = 6, kCreatedAt = 7;
}

// Runs the page query from `from` (inclusive), at most `limit` rows (-1: all).
// The returned table lives until the SPI session ends.
SPITupleTable* fetch_page(pg::SpiSession& spi, const UserPostsScope& scope, const SortKey& from, int64 limit);

// The key of the row `offset` rows into the order; false when there is none.
bool key_at_offset(pg::SpiSession& spi, const UserPostsScope& scope, int64 offset, SortKey* key);

// The key of a row; the columns are numbered as in `tuple`'s table.
SortKey key_of(SPITupleTable* table, uint64 row, int published_at_column, int created_at_column, int id_column);

// The number of the user's posts (with the status), from post_counts.
int64 total_count(pg::SpiSession& spi, const UserPostsScope& scope);

}  // namespace chronicle::posts
