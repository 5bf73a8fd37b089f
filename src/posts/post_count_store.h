// The fold of post_counts, written natively: the one write most posts writes
// make (the pair's total), without the cost of planning-free but still
// executor-built SPI statements (ExecutorStart of a two-table CTE per write was
// about a sixth of a single-row INSERT's backend time).
//
// Plain C-style code that may raise an ERROR (boundary rule 3): call it inside
// pg::pg_call, with no C++ object of its own alive.
#pragma once

#include "pg/postgres_headers.h"

namespace chronicle::posts {

// Holding the pair's advisory lock, under READ COMMITTED: deletes the pair's
// committed rows of post_count_deltas (at most 128 of them: a writer does not
// pay for another transaction's bulk change at once), adds their sum and `change` to the pair's
// row of post_count_totals (inserted if missing, deleted when it reaches zero)
// and returns the new total. The rows are read with a fresh snapshot: every
// earlier holder of the lock has committed or aborted by then. Writes through
// the table AM and the index path, as logical replication's apply does, so no
// privilege on the tables is needed (the triggers fire on the extension's posts
// only). Refuses with 42703 / 42804 when a column it reads or writes is missing
// or no longer of the type the extension made it.
int64 fold_pair(Oid schema, Datum user_id, Datum status, int64 change);

}  // namespace chronicle::posts
