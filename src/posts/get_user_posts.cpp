// get_user_posts(p_user_id, p_status, p_limit, p_offset): one page of a user's
// posts in the order published_at DESC NULLS LAST, created_at DESC, id DESC,
// each row with total_count, the number of all matching posts.
//
// total_count comes from post_counts (kept exact by triggers in the writing
// transaction) and is read in the same snapshot as the page, so it is exact
// without counting every matching row. A page at offset N first finds the key
// of row N with an index-only walk over the N skipped entries, then reads the
// page from that key: the skipped rows' heap tuples are never fetched.
#include "pg/boundary.h"
#include "pg/spi.h"
#include "posts/arguments.h"
#include "posts/materialize.h"
#include "posts/plans.h"
#include "posts/posts.h"

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_get_user_posts) {
  posts::require_not_null(fcinfo, 0, "p_user_id");
  const int64 limit = posts::count_argument(fcinfo, 2, "p_limit", true);
  const int64 offset = posts::count_argument(fcinfo, 3, "p_offset", true);  // NULL: OFFSET NULL, none
  ReturnSetInfo* result = posts::begin_materialized(fcinfo);
  if (limit == 0) return Datum(0);

  const posts::UserPostsScope scope{posts::extension_schema(fcinfo), PG_GETARG_DATUM(0), !PG_ARGISNULL(1),
                                    PG_ARGISNULL(1) ? Datum(0) : PG_GETARG_DATUM(1)};
  pg::SpiSession spi;
  posts::SortKey from = posts::first_key();
  if (offset > 0 && !posts::key_at_offset(spi, scope, offset, &from)) return Datum(0);
  SPITupleTable* page = posts::fetch_page(spi, scope, from, limit);
  if (page->numvals == 0) return Datum(0);
  const int64 total = posts::total_count(spi, scope);

  pg::pg_call([&] {
    // No C++ object is alive in this lambda: a longjmp out of it skips nothing.
    Datum values[7];
    bool nulls[7];
    for (uint64 row = 0; row < page->numvals; ++row) {
      for (int column = 0; column < 6; ++column) {
        values[column] = SPI_getbinval(page->vals[row], page->tupdesc, column + 1, &nulls[column]);
      }
      values[6] = Int64GetDatum(total);
      nulls[6] = false;
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    }
  });
  return Datum(0);
}
