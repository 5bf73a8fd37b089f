#include "core/post_cursor.h"
#include "pg/boundary.h"
#include "pg/catalog.h"
#include "pg/hmac_sha256.h"
#include "pg/spi.h"
#include "posts/posts.h"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "datatype/timestamp.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
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

namespace {

// Good for one transaction: a rotation (UPDATE cursor_secret) committed by any
// session must reach every other at its next transaction (README.md, "Posts"),
// and no invalidation message announces a changed row. One read per transaction
// (a saved plan, one row) is what that costs; a page of cursors reads it once.
struct Cached {
  Oid relation = InvalidOid;
  LocalTransactionId read_in = InvalidLocalTransactionId;
  std::string secret;
};
Cached cached;

}  // namespace

const std::string& cursor_secret(pg::SpiSession& spi, Oid schema) {
  const Oid relation = pg::pg_call([&] { return pg::find_extension_relation(schema, "cursor_secret"); });
  if (OidIsValid(relation) && relation == cached.relation && cached.read_in == MyProc->lxid) return cached.secret;

  SPIPlanPtr plan = plan_for(Query::CursorSecret, schema);
  uint64 rows = 0;
  {
    OwnerScope owner(schema, "cursor_secret");
    rows = spi.execute(plan, nullptr, nullptr, true, 2);
  }
  bool is_null = true;
  const Datum value = rows == 1 ? SPI_getbinval(spi.result()->vals[0], spi.result()->tupdesc, 1, &is_null) : 0;
  if (is_null) {
    throw Error(sqlstate::kInternalError, "chronicle's cursor secret is missing")
        .hint("cursor_secret must hold exactly one row; reinstall or update the extension.");
  }
  const bytea* bytes = pg::pg_call([&] { return DatumGetByteaPP(value); });
  std::string secret(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
  if (secret.size() < cursor::kMinSecretBytes) {
    throw Error(sqlstate::kInternalError, "chronicle's cursor secret is too short");
  }
  cached.secret = std::move(secret);
  cached.relation = relation;
  cached.read_in = MyProc->lxid;
  return cached.secret;
}

}  // namespace chronicle::posts

// get_user_posts(p_user_id, p_status, p_limit, p_offset): one page of a user's
// posts in the order published_at DESC NULLS LAST, created_at DESC, id DESC,
// each row with total_count, the number of all matching posts.
//
// total_count comes from post_counts (kept exact by triggers in the writing
// transaction) and is read in the same snapshot as the page, so it is exact
// without counting every matching row. A page at offset N first finds the key
// of row N with an index-only walk over the N skipped entries, then reads the
// page from that key: the skipped rows' heap tuples are never fetched.

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_get_user_posts) {
  posts::require_not_null(fcinfo, 0, "p_user_id");
  const int64 limit = posts::count_argument(fcinfo, 2, "p_limit", true);
  const int64 offset = posts::count_argument(fcinfo, 3, "p_offset", true);  // NULL: OFFSET NULL, none
  ReturnSetInfo* result = posts::begin_materialized(fcinfo);
  if (limit == 0) return Datum(0);

  const posts::UserPostsScope scope{pg::pg_call([&] { return pg::extension_schema(fcinfo->flinfo->fn_oid); }),
                                    PG_GETARG_DATUM(0), !PG_ARGISNULL(1),
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

// get_user_posts_keyset(p_user_id, p_status, p_limit, p_cursor): one page of a
// user's posts in get_user_posts' order; next_cursor (the same in every row,
// NULL on the last page) starts the next page.
//
// A page reads limit + 1 rows from the index, starting at the cursor's sort
// key: the extra row is where the next page starts, and its key becomes
// next_cursor. So each page costs the same at any depth. The cursor is signed
// for the user and status filter (src/core/post_cursor.h); a malformed, forged
// or replayed one is 22023.

namespace chronicle::posts {
namespace {

cursor::Scope cursor_scope(const UserPostsScope& scope, std::string& status_storage) {
  cursor::Scope result;
  std::memcpy(result.user_id.data(), DatumGetUUIDP(scope.user_id)->data, UUID_LEN);
  result.all_statuses = !scope.by_status;
  if (scope.by_status) {
    status_storage = pg::pg_call([&] { return TextDatumGetCString(scope.status); });
    result.status = status_storage;
  }
  return result;
}

SortKey key_from(const cursor::Position& position) {
  SortKey key{};
  key.published_at_null = position.published_at_null;
  key.published_at = position.published_at;
  key.created_at = position.created_at;
  std::memcpy(key.id.data, position.id.data(), UUID_LEN);
  return key;
}

cursor::Position position_from(const SortKey& key) {
  cursor::Position position;
  position.published_at_null = key.published_at_null;
  position.published_at = key.published_at_null ? 0 : key.published_at;
  position.created_at = key.created_at;
  std::memcpy(position.id.data(), key.id.data, UUID_LEN);
  return position;
}

}  // namespace
}  // namespace chronicle::posts

CHRONICLE_FUNCTION(chronicle_get_user_posts_keyset) {
  posts::require_not_null(fcinfo, 0, "p_user_id");
  const int64 limit = posts::count_argument(fcinfo, 2, "p_limit", true);
  ReturnSetInfo* result = posts::begin_materialized(fcinfo);

  const posts::UserPostsScope scope{pg::pg_call([&] { return pg::extension_schema(fcinfo->flinfo->fn_oid); }),
                                    PG_GETARG_DATUM(0), !PG_ARGISNULL(1),
                                    PG_ARGISNULL(1) ? Datum(0) : PG_GETARG_DATUM(1)};
  std::string status_storage;
  const cursor::Scope signed_for = posts::cursor_scope(scope, status_storage);
  pg::SpiSession spi;
  const std::string& secret = posts::cursor_secret(spi, scope.schema);

  posts::SortKey from = posts::first_key();
  if (!PG_ARGISNULL(3)) {
    const std::string cursor_text = pg::pg_call([&] { return TextDatumGetCString(PG_GETARG_DATUM(3)); });
    from = posts::key_from(cursor::decode(cursor_text, signed_for, secret, pg::hmac_sha256));
  }
  if (limit == 0) return Datum(0);

  SPITupleTable* page = posts::fetch_page(spi, scope, from, limit < 0 ? -1 : limit + 1);
  uint64 rows = page->numvals;
  Datum next_cursor = Datum(0);
  if (limit >= 0 && rows > static_cast<uint64>(limit)) {
    rows = static_cast<uint64>(limit);
    using namespace posts::page_column;
    const posts::SortKey next = posts::key_of(page, rows, kPublishedAt, kCreatedAt, kId);
    const std::string encoded = cursor::encode(posts::position_from(next), signed_for, secret, pg::hmac_sha256);
    next_cursor = pg::pg_call(
        [&] { return PointerGetDatum(cstring_to_text_with_len(encoded.data(), encoded.size())); });
  }

  pg::pg_call([&] {
    // No C++ object is created in this lambda: a longjmp out of it skips nothing.
    Datum values[7];
    bool nulls[7];
    for (uint64 row = 0; row < rows; ++row) {
      for (int column = 0; column < 6; ++column) {
        values[column] = SPI_getbinval(page->vals[row], page->tupdesc, column + 1, &nulls[column]);
      }
      values[6] = next_cursor;
      nulls[6] = next_cursor == Datum(0);
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    }
  });
  return Datum(0);
}

// get_popular_posts(p_days, p_limit): published posts of active users published
// in the last p_days days, by view_count DESC, id DESC. The date range is read
// from idx_posts_published_at (1.2; idx_posts_published_popular before), the
// authors through users' primary key.

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
  const Oid schema = pg::pg_call([&] { return pg::extension_schema(fcinfo->flinfo->fn_oid); });
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
