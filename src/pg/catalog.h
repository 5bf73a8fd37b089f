// Finding a table's column by name in its tuple descriptor: the relcache's copy,
// so no catalog lookup. Used by every writer and trigger that names a column.
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "access/tupdesc.h"
}

namespace chronicle::pg {

// The attribute number of the live (not dropped) column `name` of `desc`, or
// InvalidAttrNumber. Raises nothing; the caller reports a missing column its own way.
AttrNumber live_column(TupleDesc desc, const char* name);

}  // namespace chronicle::pg
