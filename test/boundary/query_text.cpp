// chronicle_posts_query_text(name text, schema text) RETURNS text: the exact
// text of one of the posts API's queries, for the plan tests
// (test/pgtap/posts_plans.sql), which EXPLAIN it on a realistic table. Test-only:
// it lives in this module, which links the extension's query texts
// (src/posts/queries.cpp) and is never shipped.
#include "pg/boundary.h"
#include "posts/posts.h"

extern "C" {
#include "utils/builtins.h"
}

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_posts_query_text) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  const std::string name = pg::pg_call([&] { return TextDatumGetCString(PG_GETARG_DATUM(0)); });
  const std::string schema = pg::pg_call([&] { return quote_identifier(TextDatumGetCString(PG_GETARG_DATUM(1))); });
  std::string sql;
  if (name == "page_by_status") sql = posts::page_query(schema, true);
  else if (name == "page_all") sql = posts::page_query(schema, false);
  else if (name == "boundary_by_status") sql = posts::boundary_query(schema, true);
  else if (name == "boundary_all") sql = posts::boundary_query(schema, false);
  else if (name == "count_by_status") sql = posts::count_query(schema, true);
  else if (name == "count_all") sql = posts::count_query(schema, false);
  else if (name == "soft_delete") sql = posts::soft_delete_query(schema);
  else if (name == "increment") sql = posts::increment_query(schema);
  else if (name == "popular") sql = posts::popular_query(schema);
  else if (name == "cursor_secret") sql = posts::cursor_secret_query(schema);
  else throw Error(sqlstate::kInvalidParameterValue, fmt::format("unknown posts query \"{}\"", name));
  PG_RETURN_TEXT_P(pg::pg_call([&] { return cstring_to_text_with_len(sql.data(), sql.size()); }));
}
