// One audit row from the old and/or new image of a changed row.
#pragma once

#include "audit/config.h"
#include "audit/context.h"
#include "audit/audit.h"

extern "C" {
#include "executor/tuptable.h"
}

namespace chronicle::audit {

enum class Operation { Insert, Update, Delete };

// Fills `row` for one changed row: old_slot is NULL for an INSERT, new_slot for
// a DELETE. Allocates in CurrentMemoryContext and copies what it takes from the
// slots, so the slots may move on before the row is written.
// Hot path: plain PostgreSQL calls only (boundary rule 3).
void fill_audit_row(const AuditConfig& config, const ChangeContext& context, Operation operation,
                    TupleTableSlot* old_slot, TupleTableSlot* new_slot, AuditRow* row);

}  // namespace chronicle::audit
