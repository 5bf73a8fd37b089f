// get_user_posts_keyset(p_user_id, p_status, p_limit, p_cursor): one page of a
// user's posts in get_user_posts' order; next_cursor (the same in every row,
// NULL on the last page) starts the next page.
//
// A page reads limit + 1 rows from the index, starting at the cursor's sort
// key: the extra row is where the next page starts, and its key becomes
// next_cursor. So each page costs the same at any depth. The cursor is signed
// for the user and status filter (src/core/post_cursor.h); a malformed, forged
// or replayed one is 22023.
#include "core/post_cursor.h"
#include "pg/boundary.h"
#include "pg/hmac_sha256.h"
#include "pg/spi.h"
#include "posts/arguments.h"
#include "posts/cursor_secret.h"
#include "posts/materialize.h"
#include "posts/plans.h"
#include "posts/posts.h"

extern "C" {
#include "utils/builtins.h"
}

using namespace chronicle;

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

  const posts::UserPostsScope scope{posts::extension_schema(fcinfo), PG_GETARG_DATUM(0), !PG_ARGISNULL(1),
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
