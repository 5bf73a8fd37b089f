// Finding one of the extension's own tables or indexes by name.
#pragma once

#include "pg/postgres_headers.h"

namespace chronicle::posts {

// The relation `name` of `schema` (the extension's). Raises 42P01 (ereport:
// call it inside pg::pg_call where C++ objects are alive) when it is missing.
Oid extension_relation(Oid schema, const char* name);

}  // namespace chronicle::posts
