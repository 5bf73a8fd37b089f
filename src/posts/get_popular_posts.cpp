// get_popular_posts(p_days, p_limit): published posts of active users published
// in the last p_days days, by view_count DESC, id DESC. The date range is read
// from idx_posts_published_at (1.2; idx_posts_published_popular before), the
// authors through users' primary key.
#include "pg/boundary.h"
#include "pg/spi.h"
#include "posts/arguments.h"
#include "posts/materialize.h"
#include "posts/plans.h"

extern "C" {
#include "access/xact.h"
#include "datatype/timestamp.h"
}

using namespace chronicle;

namespace {

// Whether `days` before now still is a timestamp. Beyond that, the query's
// date arithmetic would fail (22008, as the reference does for 2147483647),
// though the caller only asked for every post: the query then takes the
// oldest timestamp as its bound. Two days of margin cover the session time
// zone's offset and a DST shift in the day arithmetic.
bool reaches_past_oldest_timestamp(int64 days) {
  const TimestampTz now = GetCurrentTransactionStartTimestamp();
  return days > (now - MIN_TIMESTAMP) / USECS_PER_DAY - 2;
}

}  // namespace

CHRONICLE_FUNCTION(chronicle_get_popular_posts) {
  const int64 days = posts::count_argument(fcinfo, 0, "p_days", false);
  const int64 limit = posts::count_argument(fcinfo, 1, "p_limit", true);
  ReturnSetInfo* result = posts::begin_materialized(fcinfo);
  if (limit == 0) return Datum(0);

  Datum values[2] = {Int32GetDatum(static_cast<int32>(days)), Int64GetDatum(limit)};
  const char nulls[2] = {reaches_past_oldest_timestamp(days) ? 'n' : ' ', limit < 0 ? 'n' : ' '};
  const Oid schema = posts::extension_schema(fcinfo);
  pg::SpiSession spi;
  spi.execute(posts::plan_for(posts::Query::Popular, schema), values, nulls, true);
  SPITupleTable* rows = spi.result();
  pg::pg_call([&] {
    // No C++ object is alive in this lambda: a longjmp out of it skips nothing.
    Datum row_values[5];
    bool row_nulls[5];
    for (uint64 row = 0; row < rows->numvals; ++row) {
      for (int column = 0; column < 5; ++column) {
        row_values[column] = SPI_getbinval(rows->vals[row], rows->tupdesc, column + 1, &row_nulls[column]);
      }
      tuplestore_putvalues(result->setResult, result->setDesc, row_values, row_nulls);
    }
  });
  return Datum(0);
}
