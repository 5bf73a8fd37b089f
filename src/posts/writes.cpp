#include "pg/boundary.h"
#include "pg/catalog.h"
#include "pg/spi.h"
#include "posts/posts.h"

// increment_post_views(p_post_id, p_increment): adds to a published post's
// view_count in one UPDATE and returns the new count. The UPDATE's row lock
// (re-checked under READ COMMITTED) makes concurrent calls on one post queue
// rather than lose increments; one row, so no deadlock among them.

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_increment_post_views) {
  posts::require_not_null(fcinfo, 0, "p_post_id");
  posts::require_not_null(fcinfo, 1, "p_increment");
  const int32 increment = PG_GETARG_INT32(1);
  if (increment < 1) {
    throw Error(sqlstate::kInvalidParameterValue, fmt::format("p_increment must be at least 1, got {}", increment));
  }
  Datum values[2] = {PG_GETARG_DATUM(0), Int32GetDatum(increment)};
  const Oid schema = pg::pg_call([&] { return pg::extension_schema(fcinfo->flinfo->fn_oid); });
  pg::SpiSession spi;
  if (spi.execute(posts::plan_for(posts::Query::Increment, schema), values, nullptr, false) == 0) {
    throw Error(sqlstate::kNoDataFound, fmt::format("Post {} not found or not published", posts::uuid_text(values[0])));
  }
  bool is_null = false;
  const Datum count = SPI_getbinval(spi.result()->vals[0], spi.result()->tupdesc, 1, &is_null);
  PG_RETURN_INT32(DatumGetInt32(count));  // by value: survives SPI_finish
}

// soft_delete_user(p_user_id, p_deleted_by): sets deleted_at and updated_by of
// an active user; P0002 with the reference's message when there is none.

CHRONICLE_FUNCTION(chronicle_soft_delete_user) {
  posts::require_not_null(fcinfo, 0, "p_user_id");
  Datum values[2] = {PG_GETARG_DATUM(0), PG_ARGISNULL(1) ? Datum(0) : PG_GETARG_DATUM(1)};
  const char nulls[2] = {' ', PG_ARGISNULL(1) ? 'n' : ' '};
  const Oid schema = pg::pg_call([&] { return pg::extension_schema(fcinfo->flinfo->fn_oid); });
  pg::SpiSession spi;
  if (spi.execute(posts::plan_for(posts::Query::SoftDelete, schema), values, nulls, false) == 0) {
    throw Error(sqlstate::kNoDataFound,
                fmt::format("User {} not found or already deleted", posts::uuid_text(values[0])));
  }
  PG_RETURN_VOID();
}
