#include "posts/owner_scope.h"

#include "pg/boundary.h"
#include "posts/extension_relation.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace chronicle::posts {
namespace {

Oid owner_of(Oid schema, const char* table) {
  const Oid relation = pg::pg_call([&] { return extension_relation(schema, table); });
  return pg::pg_call([&] {
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relation));
    if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", relation);
    const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
  });
}

}  // namespace

OwnerScope::OwnerScope(Oid schema, const char* table) {
  const Oid owner = owner_of(schema, table);
  GetUserIdAndSecContext(&saved_user_, &saved_context_);
  SetUserIdAndSecContext(owner, saved_context_ | SECURITY_LOCAL_USERID_CHANGE);
}

OwnerScope::~OwnerScope() { SetUserIdAndSecContext(saved_user_, saved_context_); }

}  // namespace chronicle::posts
