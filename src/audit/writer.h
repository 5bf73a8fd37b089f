// Writes audit_logs rows the way logical replication's apply writes rows: through
// the table AM and the executor's constraint and index-insert paths, without SPI
// and without checking the caller's privileges on audit_logs or its sequence.
// That is what lets an application role that cannot write audit_logs still get
// its audit rows (CONTRACT.md, Privileges).
//
// What a normal INSERT would enforce is enforced: the length of table_name
// (22001), NOT NULL and CHECK constraints (23502 / 23514), unique indexes
// (23505). Triggers and row-level security on audit_logs are not applied: the
// audit log is the extension's own table, written only by the extension.
//
// Everything here is plain C-style code: it runs per row and may longjmp on an
// ERROR (boundary rule 3), so the sink is a plain struct and owns no C++ object.
#pragma once

#include "audit/config.h"

extern "C" {
#include "nodes/execnodes.h"
}

namespace chronicle::audit {

// One audit row. Datums are of the audit_logs column types.
struct AuditRow {
  const char* operation;  // "INSERT", "UPDATE" or "DELETE"
  Datum record_id;
  bool record_id_null;
  Datum user_id;
  bool user_id_null;
  Datum old_data;
  bool old_data_null;
  Datum new_data;
  bool new_data_null;
  Datum changed_fields;
  Datum ip_address;
  bool ip_address_null;
  Datum user_agent;
  bool user_agent_null;
};

enum AuditColumnIndex {
  kId, kTableName, kOperation, kRecordId, kUserId, kOldData, kNewData, kChangedFields, kIpAddress, kUserAgent,
  kCreatedAt, kAuditColumnCount
};

struct AuditSink {
  Relation relation;
  EState* estate;
  ResultRelInfo* result;
  TupleTableSlot** slots;
  TupleDesc slot_descriptor;  // the rows' descriptor (the relation's, or a copy: see build_sink)
  int capacity;             // rows buffered before they are written together
  int used;
  int attno[kAuditColumnCount];  // 0-based position of each column in audit_logs
  Datum table_name;         // the audited table's name as varchar
  Datum created_at;         // CURRENT_TIMESTAMP as audit_logs.created_at's type
  Oid sequence;
  char image_compression[2];  // old_data, new_data: how row images are compressed (image_compression.h)
  CommandId command;
  MemoryContext row_context;  // the buffered rows' values; reset after each write
};

// Opens audit_logs (RowExclusiveLock), its indexes and an executor state.
// capacity 1 writes each row at once (row mode); more batches them (statement mode).
void open_sink(AuditSink* sink, const AuditConfig& config, int capacity);

// Points an open sink at the audited table of config, in the current
// transaction and command; the table's name is allocated in context.
void target_sink(AuditSink* sink, const AuditConfig& config, MemoryContext context);

// Builds a sink (capacity 1) in the current memory context that may outlive
// the statement: its memory is kept until the context goes, and the relations
// are opened and closed around each use (row_sink.h). It leaves them open.
void build_lasting_sink(AuditSink* sink, const AuditConfig& config);

// The context the caller builds a row's values in (reset by flush_sink).
inline MemoryContext sink_row_context(const AuditSink* sink) { return sink->row_context; }

// Adds one row; writes the batch when it is full.
void add_audit_row(AuditSink* sink, const AuditRow& row);

// Writes the buffered rows (heap, then indexes) and resets the row context.
void flush_sink(AuditSink* sink);

// Flushes, then closes the indexes and the relation and frees the executor state.
void close_sink(AuditSink* sink);

}  // namespace chronicle::audit
