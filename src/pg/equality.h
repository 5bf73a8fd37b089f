// IS DISTINCT FROM between two values of a column, as changed_fields and the
// not_an_edit= option decide it: the type's = operator, with identical images
// taken as equal first (the common case, and no detoasting).
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "fmgr.h"
}

namespace chronicle::pg {

// The = operator IS DISTINCT FROM would use for `type` (whose domains are looked
// through to `base`): the type's default equality (from its btree or hash
// opclass, as the type cache finds it), else an exact pg_catalog.=(base, base),
// else InvalidOid (json, xml, point, ...: then only the images can be compared).
// Catalog lookups: may ereport, call it through pg_call.
Oid equality_operator(Oid type, Oid base);

// True when the two non-null values are not distinct. `equal` is the = operator's
// function, or nullptr for a type without one: then the (detoasted) images
// decide. Hot path: plain PostgreSQL calls only (boundary rule 3).
bool same_value(const FmgrInfo* equal, Oid collation, bool typbyval, int16 typlen, Datum a, Datum b);

}  // namespace chronicle::pg
