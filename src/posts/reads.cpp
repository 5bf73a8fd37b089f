#include "posts/posts.h"

#include "pg/boundary.h"
#include "posts/owner_scope.h"
#include "posts/plans.h"
#include "posts/queries.h"

extern "C" {
#include "access/htup_details.h"
#include "utils/timestamp.h"
}

namespace chronicle::posts {

SortKey first_key() {
  SortKey key{};
  key.published_at_null = false;
  key.published_at = DT_NOEND;  // 'infinity': no timestamp sorts above it
  key.created_at = DT_NOEND;
  std::memset(key.id.data, 0xff, UUID_LEN);  // the greatest uuid
  return key;
}

SPITupleTable* fetch_page(pg::SpiSession& spi, const UserPostsScope& scope, const SortKey& from, int64 limit) {
  const SortKey top = first_key();
  Datum values[kPageArgs];
  char nulls[kPageArgs];
  std::memset(nulls, ' ', sizeof(nulls));
  values[0] = scope.user_id;
  values[1] = scope.by_status ? scope.status : Datum(0);
  if (!scope.by_status) nulls[1] = 'n';
  values[2] = Int64GetDatum(limit);
  if (limit < 0) nulls[2] = 'n';  // LIMIT NULL: every row
  // The part with a published_at starts at the key, or is skipped when the key
  // is already in the NULL part; the NULL part starts at its top or at the key.
  const SortKey& with_date = from.published_at_null ? top : from;
  const SortKey& without_date = from.published_at_null ? from : top;
  values[3] = TimestampGetDatum(with_date.published_at);
  values[4] = TimestampGetDatum(with_date.created_at);
  values[5] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&with_date.id));
  values[6] = BoolGetDatum(from.published_at_null);
  values[7] = TimestampGetDatum(without_date.created_at);
  values[8] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&without_date.id));
  SPIPlanPtr plan = plan_for(scope.by_status ? Query::PageByStatus : Query::PageAll, scope.schema);
  spi.execute(plan, values, nulls, true);
  return spi.result();
}

bool key_at_offset(pg::SpiSession& spi, const UserPostsScope& scope, int64 offset, SortKey* key) {
  Datum values[kBoundaryArgs] = {scope.user_id, scope.by_status ? scope.status : Datum(0), Int64GetDatum(offset)};
  const char nulls[kBoundaryArgs] = {' ', scope.by_status ? ' ' : 'n', ' '};
  SPIPlanPtr plan = plan_for(scope.by_status ? Query::BoundaryByStatus : Query::BoundaryAll, scope.schema);
  if (spi.execute(plan, values, nulls, true, 1) == 0) return false;
  *key = key_of(spi.result(), 0, 1, 2, 3);
  return true;
}

SortKey key_of(SPITupleTable* table, uint64 row, int published_at_column, int created_at_column, int id_column) {
  HeapTuple tuple = table->vals[row];
  TupleDesc desc = table->tupdesc;
  SortKey key{};
  bool is_null = false;
  // Plain reads of a tuple we hold: no PostgreSQL error possible.
  const Datum published_at = heap_getattr(tuple, published_at_column, desc, &is_null);
  key.published_at_null = is_null;
  key.published_at = is_null ? 0 : DatumGetTimestamp(published_at);
  key.created_at = DatumGetTimestamp(heap_getattr(tuple, created_at_column, desc, &is_null));
  const Datum id = heap_getattr(tuple, id_column, desc, &is_null);
  std::memcpy(key.id.data, DatumGetUUIDP(id)->data, UUID_LEN);
  return key;
}

int64 total_count(pg::SpiSession& spi, const UserPostsScope& scope) {
  Datum values[kCountArgs] = {scope.user_id, scope.by_status ? scope.status : Datum(0)};
  const char nulls[kCountArgs] = {' ', scope.by_status ? ' ' : 'n'};
  SPIPlanPtr plan = plan_for(scope.by_status ? Query::CountByStatus : Query::CountAll, scope.schema);
  {
    OwnerScope owner(scope.schema, "post_count_totals");
    if (spi.execute(plan, values, nulls, true, 1) == 0) return 0;
  }
  int64 total = 0;
  for (int column = 1; column <= 2; ++column) {
    bool is_null = false;
    const Datum part = SPI_getbinval(spi.result()->vals[0], spi.result()->tupdesc, column, &is_null);
    if (!is_null) total += DatumGetInt64(part);
  }
  return total;
}

}  // namespace chronicle::posts
