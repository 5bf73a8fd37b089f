#include "posts/cursor_secret.h"

#include "core/post_cursor.h"
#include "pg/boundary.h"
#include "posts/owner_scope.h"
#include "posts/plans.h"

extern "C" {
#include "storage/proc.h"
#include "utils/lsyscache.h"
}

namespace chronicle::posts {
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
  const Oid relation = pg::pg_call([&] { return get_relname_relid("cursor_secret", schema); });
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
