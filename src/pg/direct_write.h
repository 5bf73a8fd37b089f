// Writing a table through its access method and the executor's index path, as
// logical replication's apply does (no SPI, no permission check): the executor
// state such a writer needs for one relation.
//
// Plain C-style code that may raise an ERROR (boundary rule 3): call it inside
// pg::pg_call, or where no C++ object with a destructor is alive.
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "nodes/execnodes.h"
}

namespace chronicle::pg {

// Gives `estate` a one-entry range table for `rel` and returns a ResultRelInfo
// with the relation's indexes open (close them with ExecCloseIndices). The
// executor looks the relation up in that range table to report a failed
// constraint, and an index insert after a non-HOT update reads there which
// columns the update changed (`updated_columns`: attribute numbers offset by
// FirstLowInvalidHeapAttributeNumber, as in RangeTblEntry; NULL for a writer that
// only inserts). Allocated in the estate's query context.
ResultRelInfo* open_result_relation(EState* estate, Relation rel, Bitmapset* updated_columns);

}  // namespace chronicle::pg
