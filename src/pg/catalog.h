// Catalog lookups, each done here and only here: the extension itself, its
// schema and owner, its relations by name, a relation's owner, a column by name.
//
// Plain C-style functions that may raise an ERROR (boundary rule 3): call them
// inside pg_call where a C++ object with a destructor is alive.
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "access/tupdesc.h"
}

namespace chronicle::pg {

// The extension's schema, found from one of its C functions (fcinfo->flinfo->fn_oid):
// the function's own namespace, where CREATE EXTENSION put it.
Oid extension_schema(Oid function);

// The extension `function` belongs to (pg_extension.oid), or InvalidOid.
Oid extension_of(Oid function);

// The owner of the extension `function` belongs to (pg_extension.extowner); the
// function's own owner when it belongs to none.
Oid extension_owner(Oid function);

// The relation (table or index) `name` of the extension's `schema`, or InvalidOid.
Oid find_extension_relation(Oid schema, const char* name);

// The same, but a missing relation is 42P01: the extension's objects are incomplete.
Oid extension_relation(Oid schema, const char* name);

// pg_class.relowner of `relation`.
Oid relation_owner(Oid relation);

// The attribute number of the live (not dropped) column `name` of `desc`, or
// InvalidAttrNumber: the relcache's descriptor, so no catalog lookup. Raises
// nothing; the caller reports a missing column its own way.
AttrNumber live_column(TupleDesc desc, const char* name);

}  // namespace chronicle::pg
