#include "pg/equality.h"

#include <cstring>

extern "C" {
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "utils/datum.h"
#include "utils/typcache.h"
}

namespace chronicle::pg {

Oid equality_operator(Oid type, Oid base) {
  TypeCacheEntry* entry = lookup_type_cache(type, TYPECACHE_EQ_OPR);
  if (OidIsValid(entry->eq_opr)) return entry->eq_opr;
  List* name = list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup("=")));
  return OpernameGetOprid(name, base, base);
}

bool same_value(const FmgrInfo* equal, Oid collation, bool typbyval, int16 typlen, Datum a, Datum b) {
  // Identical images are equal under every = operator PostgreSQL ships (NaN = NaN
  // included), and an unchanged TOASTed value keeps its pointer: no detoasting.
  if (datumIsEqual(a, b, typbyval, typlen)) return true;
  if (equal != nullptr) return DatumGetBool(FunctionCall2Coll(const_cast<FmgrInfo*>(equal), collation, a, b));
  if (typlen != -1) return false;  // fixed-length images differ
  // A varlena without =: compare the detoasted, decompressed bytes.
  struct varlena* x = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(a)));
  struct varlena* y = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(b)));
  const size_t length = VARSIZE_ANY_EXHDR(x);
  return length == VARSIZE_ANY_EXHDR(y) && std::memcmp(VARDATA_ANY(x), VARDATA_ANY(y), length) == 0;
}

}  // namespace chronicle::pg
