#pragma once
// Row mode's audit sink, kept from one audited row to the next (row_sink.cpp).

#include "audit/audit.h"

namespace chronicle::audit {

// The sink for one audit row: audit_logs and its indexes opened
// (RowExclusiveLock), pointed at config's table. nullptr when the kept sink is
// in use (an audit write nested inside another's, through an index expression
// on audit_logs), or when audit_logs does not have the installed shape (the
// general path, writer.h): the caller then opens a sink of its own.
AuditSink* acquire_row_sink(const AuditConfig& config);

// Closes the relations the row was written through; keeps the memory.
void release_row_sink(AuditSink* sink);

}  // namespace chronicle::audit
