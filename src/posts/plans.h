// Saved SPI plans of the posts API, prepared once per backend on first use.
//
// The query texts name the extension's schema, found from the calling
// function's own namespace (where CREATE EXTENSION put it). If a later call
// comes from another schema (the extension was dropped and created elsewhere in
// this session), every plan is freed and prepared again. Table changes
// (new indexes, ALTER TABLE, ANALYZE) are handled by the plan cache itself.
#pragma once

#include "pg/postgres_headers.h"

#include "pg/spi.h"

namespace chronicle::posts {

enum class Query {
  PageByStatus,
  PageAll,
  BoundaryByStatus,
  BoundaryAll,
  CountByStatus,
  CountAll,
  SoftDelete,
  Increment,
  Popular,
  CursorSecret,
  DeltaInsert,
};

// The schema of the function being called (fcinfo's own namespace).
Oid extension_schema(FunctionCallInfo fcinfo);

// The saved plan of `query` for `schema`. Requires an SPI connection.
SPIPlanPtr plan_for(Query query, Oid schema);

}  // namespace chronicle::posts
