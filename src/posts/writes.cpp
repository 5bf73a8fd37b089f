// soft_delete_user(p_user_id, p_deleted_by): sets deleted_at and updated_by of
// an active user; P0002 with the reference's message when there is none.
#include "pg/boundary.h"
#include "pg/spi.h"
#include "posts/arguments.h"
#include "posts/plans.h"

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_soft_delete_user) {
  posts::require_not_null(fcinfo, 0, "p_user_id");
  Datum values[2] = {PG_GETARG_DATUM(0), PG_ARGISNULL(1) ? Datum(0) : PG_GETARG_DATUM(1)};
  const char nulls[2] = {' ', PG_ARGISNULL(1) ? 'n' : ' '};
  const Oid schema = posts::extension_schema(fcinfo);
  pg::SpiSession spi;
  if (spi.execute(posts::plan_for(posts::Query::SoftDelete, schema), values, nulls, false) == 0) {
    throw Error("P0002", fmt::format("User {} not found or already deleted", posts::uuid_text(values[0])));
  }
  PG_RETURN_VOID();
}
