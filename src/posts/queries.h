// The SQL texts of the posts API, built for the extension's schema.
//
// Every name is schema-qualified and every operator and function comes from
// pg_catalog, so a caller's search_path (or an object planted in a schema on it)
// cannot change what these queries mean. Parameters have exact types.
#pragma once

#include <string>

namespace chronicle::posts {

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
// (int8). The fold is native (post_count_store.h).
std::string delta_insert_query(const std::string& schema);

}  // namespace chronicle::posts
