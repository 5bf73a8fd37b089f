// The audit writer's fast path into a partitioned audit_logs (1.3,
// partition_audit_log): each row goes to the leaf partition whose range of id
// holds it, found by a binary search of the parent's partition bounds, and is
// written there as the fast path writes a plain table (heap, CHECK and NOT NULL
// of the leaf, its index inserts). What it builds per leaf (the ResultRelInfo,
// its index infos, the CHECK expressions, the column map) is kept with the sink
// and reused while no relcache invalidation has come in since; the leaf and
// its indexes are opened around each write and closed after it, so a kept sink
// still holds no relation between rows.
//
// Plain C-style code that runs per row and may longjmp (boundary rule 3).
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "nodes/execnodes.h"
#include "utils/rel.h"
}

namespace chronicle::audit {

struct LeafRoutes;

// Whether `rel` (partitioned) is partitioned the way the fast path routes: by
// range of its single column `id_attno` (1-based).
bool routable_by_id(Relation rel, AttrNumber id_attno);

// Writes the row in `slot` (in the parent's descriptor, `id` its id) into its
// leaf partition: 23514 when no partition takes it. *routes is created in
// `context` at the first row. `root` is the parent's ResultRelInfo.
void write_routed_row(LeafRoutes** routes, MemoryContext context, EState* estate, ResultRelInfo* root,
                      TupleTableSlot* slot, int64 id, CommandId command);

}  // namespace chronicle::audit
