// The posts API (README.md, "Posts"). Its phases, a file each: reads.cpp
// (get_user_posts, get_user_posts_keyset, get_popular_posts and the cursor
// secret), writes.cpp (increment_post_views, soft_delete_user), counts.cpp (the
// post_counts triggers and their native fold), plans.cpp (the saved SPI plans,
// the argument checks, running as a private table's owner) and queries.cpp (the
// SQL texts, which depend on nothing else: the test-only module links them).

#pragma once

#include "pg/postgres_headers.h"

#include <string>

#include "pg/spi.h"

extern "C" {
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace chronicle::posts {

// Saved SPI plans of the posts API, prepared once per backend on first use.
//
// The query texts name the extension's schema, found from the calling
// function's own namespace (where CREATE EXTENSION put it). If a later call
// comes from another schema (the extension was dropped and created elsewhere in
// this session), every plan is freed and prepared again. Table changes
// (new indexes, ALTER TABLE, ANALYZE) are handled by the plan cache itself.

enum class Query {
  PageByStatus,
  PageAll,
  BoundaryByStatus,
  BoundaryAll,
  CountByStatus,
  CountAll,
  SoftDelete,
  Increment,
  Popular,
  CursorSecret,
  DeltaInsert,
};

// The saved plan of `query` for `schema`. Requires an SPI connection.
SPIPlanPtr plan_for(Query query, Oid schema);

// Argument checks shared by the posts API: NULL where a value is required is
// 22004, a negative count 22023, each naming the parameter.

// Throws 22004 when argument `index` (named `name`) is NULL.
void require_not_null(FunctionCallInfo fcinfo, int index, const char* name);

// Argument `index` (int4) as a row count: 22023 when negative; -1 when NULL
// (SQL's LIMIT NULL, no limit) if null_means_all, else 22004.
int64 count_argument(FunctionCallInfo fcinfo, int index, const char* name, bool null_means_all);

// The text of a uuid, for messages.
std::string uuid_text(Datum uuid);

// Set-returning functions of the posts API materialize their rows: the
// tuplestore and its descriptor are made by InitMaterializedSRF in the
// per-query memory context, before SPI connects, and tuplestore_putvalues
// copies each row into it, so nothing returned points into SPI memory (which
// SPI_finish frees).

ReturnSetInfo* begin_materialized(FunctionCallInfo fcinfo);

// Runs a block as the owner of one of the extension's private tables.
//
// post_counts and cursor_secret are readable by their owner only: application
// roles must neither forge nor read them (the cursor secret especially). The
// posts API itself is SECURITY INVOKER (it reads posts with the caller's
// privileges), so for its one fixed, schema-qualified query on such a table it
// switches the current user to the table's owner, the way SECURITY DEFINER
// would, with SECURITY_LOCAL_USERID_CHANGE so that nothing can SET ROLE back.
// The destructor restores the caller; an ERROR restores it through the
// (sub)transaction abort.

class OwnerScope {
 public:
  // relation: a table of `schema`, named `table`; 42P01 when it does not exist.
  OwnerScope(Oid schema, const char* table);
  ~OwnerScope();
  OwnerScope(const OwnerScope&) = delete;
  OwnerScope& operator=(const OwnerScope&) = delete;

 private:
  Oid saved_user_;
  int saved_context_;
};

// The SQL texts of the posts API, built for the extension's schema.
//
// Every name is schema-qualified and every operator and function comes from
// pg_catalog, so a caller's search_path (or an object planted in a schema on it)
// cannot change what these queries mean. Parameters have exact types.

// One page of a user's posts in the API's order (published_at DESC NULLS LAST,
// created_at DESC, id DESC), starting AT a sort key (inclusive). The order is
// split in two index range scans: rows with a published_at (a row comparison
// on the index's trailing columns), then rows without one; Append returns them
// in that order and stops at the limit, so the cost does not depend on depth.
// Columns: id, title, content, status, published_at, view_count, created_at.
// $1 uuid user, $2 varchar status (unused when !by_status), $3 int8 limit,
// $4 timestamp published_at, $5 timestamp created_at, $6 uuid id of the start
// key when it has a published_at; $7 bool: the start key has none, then
// $8 timestamp created_at, $9 uuid id are where the NULL part starts.
std::string page_query(const std::string& schema, bool by_status);
inline constexpr int kPageArgs = 9;

// The sort key of the row at OFFSET $3 (int8): an index-only walk over the
// skipped entries. Columns: published_at, created_at, id.
std::string boundary_query(const std::string& schema, bool by_status);
inline constexpr int kBoundaryArgs = 3;

// The number of posts of user $1 (with status $2), from post_counts' tables:
// two int8 columns (totals, unfolded deltas), either NULL when there is none.
std::string count_query(const std::string& schema, bool by_status);
inline constexpr int kCountArgs = 2;

// $1 uuid user, $2 uuid deleted_by.
std::string soft_delete_query(const std::string& schema);
// $1 uuid post, $2 int4 increment; RETURNING view_count.
std::string increment_query(const std::string& schema);
// $1 int4 days, $2 int8 limit. Columns: id, title, view_count, author_name, published_at.
std::string popular_query(const std::string& schema);
// The cursor secret (bytea), read as the owner of its table.
std::string cursor_secret_query(const std::string& schema);
// post_counts maintenance, $1 uuid user, $2 varchar status: append delta $3
// (int8). The fold is native (counts.cpp).
std::string delta_insert_query(const std::string& schema);

// Reading one user's posts in the API's order: shared by get_user_posts (offset
// pages) and get_user_posts_keyset (cursor pages).

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

// The per-database secret that signs keyset cursors (table cursor_secret,
// readable by its owner only).

// The secret, read as the table's owner once per transaction: a rotation
// committed by another session takes effect here at the next transaction.
const std::string& cursor_secret(pg::SpiSession& spi, Oid schema);

}  // namespace chronicle::posts
