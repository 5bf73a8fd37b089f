#include "posts/posts.h"

#include <fmt/format.h>

namespace chronicle::posts {
namespace {

constexpr const char* kOrder = "p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC";

std::string status_filter(bool by_status) { return by_status ? " AND p.status OPERATOR(pg_catalog.=) $2" : ""; }

}  // namespace

std::string page_query(const std::string& schema, bool by_status) {
  const std::string filter = status_filter(by_status);
  return fmt::format(
      "(SELECT p.id, p.title, p.content, p.status, p.published_at, p.view_count, p.created_at"
      " FROM {0}.posts p"
      " WHERE p.user_id OPERATOR(pg_catalog.=) $1{1} AND NOT $7"
      " AND ROW(p.published_at, p.created_at, p.id) OPERATOR(pg_catalog.<=) ROW($4, $5, $6)"
      " ORDER BY {2} LIMIT $3)"
      " UNION ALL "
      "(SELECT p.id, p.title, p.content, p.status, p.published_at, p.view_count, p.created_at"
      " FROM {0}.posts p"
      " WHERE p.user_id OPERATOR(pg_catalog.=) $1{1} AND p.published_at IS NULL"
      " AND ROW(p.created_at, p.id) OPERATOR(pg_catalog.<=) ROW($8, $9)"
      " ORDER BY {2} LIMIT $3)"
      " LIMIT $3",
      schema, filter, kOrder);
}

std::string boundary_query(const std::string& schema, bool by_status) {
  return fmt::format(
      "SELECT p.published_at, p.created_at, p.id FROM {0}.posts p"
      " WHERE p.user_id OPERATOR(pg_catalog.=) $1{1}"
      " ORDER BY {2} OFFSET $3 LIMIT 1",
      schema, status_filter(by_status), kOrder);
}

std::string count_query(const std::string& schema, bool by_status) {
  // post_counts without the view: totals plus the deltas not folded yet.
  const char* filter = by_status ? " AND x.status OPERATOR(pg_catalog.=) $2" : "";
  return fmt::format(
      "SELECT (SELECT pg_catalog.sum(x.post_count) FROM {0}.post_count_totals x"
      " WHERE x.user_id OPERATOR(pg_catalog.=) $1{1})::pg_catalog.int8,"
      " (SELECT pg_catalog.sum(x.delta) FROM {0}.post_count_deltas x"
      " WHERE x.user_id OPERATOR(pg_catalog.=) $1{1})::pg_catalog.int8",
      schema, filter);
}

std::string soft_delete_query(const std::string& schema) {
  return fmt::format(
      "UPDATE {0}.users SET deleted_at = CURRENT_TIMESTAMP, updated_by = $2"
      " WHERE id OPERATOR(pg_catalog.=) $1 AND deleted_at IS NULL",
      schema);
}

std::string increment_query(const std::string& schema) {
  return fmt::format(
      "UPDATE {0}.posts SET view_count = view_count OPERATOR(pg_catalog.+) $2"
      " WHERE id OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'published'"
      " RETURNING view_count",
      schema);
}

std::string popular_query(const std::string& schema) {
  return fmt::format(
      "SELECT p.id, p.title, p.view_count, u.name, p.published_at"
      " FROM {0}.posts p JOIN {0}.users u ON u.id OPERATOR(pg_catalog.=) p.user_id"
      " WHERE p.status OPERATOR(pg_catalog.=) 'published'"
      // $1 NULL: p_days reaches back past the oldest timestamp, so the bound is
      // the oldest one (reads.cpp). A custom plan folds the
      // COALESCE either way, so the index range stays.
      " AND p.published_at OPERATOR(pg_catalog.>=) COALESCE("
      "CURRENT_TIMESTAMP OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => $1),"
      " '4714-11-24 00:00:00+00 BC'::pg_catalog.timestamptz)"
      " AND u.deleted_at IS NULL"
      " ORDER BY p.view_count DESC, p.id DESC LIMIT $2",
      schema);
}

std::string cursor_secret_query(const std::string& schema) {
  return fmt::format("SELECT s.secret FROM {0}.cursor_secret s", schema);
}

std::string delta_insert_query(const std::string& schema) {
  return fmt::format("INSERT INTO {0}.post_count_deltas (user_id, status, delta) VALUES ($1, $2, $3)", schema);
}

}  // namespace chronicle::posts
