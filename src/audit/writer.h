// Writes audit_logs rows as an INSERT into audit_logs by the extension's owner
// would store them (README.md, "The audit log"), whatever the DBA has made of
// the table since installing, without SPI and without checking the caller's
// privileges on audit_logs or its sequence. That is what lets an application role
// that cannot write audit_logs still get its audit rows.
//
// The table is the one named audit_logs in the extension's schema at the time of
// the write (a rotation by RENAME + CREATE TABLE is followed at once). Once per
// relcache version of it, the writer decides which of two paths to take:
//  * the installed shape (a plain table with exactly the 11 columns, types and
//    defaults of chronicle--1.0.sql, plus from 1.3 transaction_id xid8 DEFAULT
//    pg_current_xact_id(), no internal trigger, no deferrable index; or such a
//    table partitioned by ranges of id, as partition_audit_log makes it, whose
//    rows go to their leaf partition: partition_route.h):
//    the FAST PATH forms the row itself and writes it through the table AM, the
//    executor's CHECK / NOT NULL checks and the index inserts (batched in
//    statement mode). Length (22001), NOT NULL (23502), CHECK (23514) and unique
//    or exclusion (23505 / 23P01) constraints hold as for an INSERT.
//  * anything else: the GENERAL PATH does per row what the executor's INSERT does,
//    evaluated as the extension's owner: the 9 supplied values coerced to each
//    column's current type by assignment (42804 naming the column when no
//    coercion exists; 42703 when a supplied column is gone), every other column
//    its default (identity included) or NULL, stored generated columns computed,
//    the row routed to its partition (23514 when there is none), constraints,
//    index inserts, and the internal AFTER triggers that enforce foreign keys and
//    deferrable unique / exclusion constraints (deferred ones when checked).
// Triggers written by users and row-level security on audit_logs are NOT
// applied: the audit log is the extension's own table, written only by it.
// Whatever fails raises an ERROR that fails the audited statement: no row is
// ever half written.
//
// Everything here is plain C-style code: it runs per row and may longjmp on an
// ERROR (boundary rule 3), so the sink is a plain struct and owns no C++ object.
#pragma once

#include "audit/config.h"

extern "C" {
#include "executor/execPartition.h"
#include "nodes/execnodes.h"
}

namespace chronicle::audit {

struct LeafRoutes;  // partition_route.h

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
  kId,
  kTableName,
  kOperation,
  kRecordId,
  kUserId,
  kOldData,
  kNewData,
  kChangedFields,
  kIpAddress,
  kUserAgent,
  kCreatedAt,
  kAuditColumnCount
};

struct AuditSink {
  Relation relation;
  EState* estate;
  ResultRelInfo* result;
  TupleTableSlot** slots;
  TupleDesc slot_descriptor;  // the rows' descriptor (the relation's, or a copy: see build_sink)
  int capacity;               // rows buffered before they are written together
  int used;
  int attno[kAuditColumnCount];  // 0-based position of each column in audit_logs
  int transaction_id_attno;      // 0-based position of transaction_id (1.3), -1 when there is none
  Datum transaction_id;          // the writing transaction's pg_current_xact_id()
  Datum table_name;              // the audited table's name as varchar
  Datum created_at;              // CURRENT_TIMESTAMP as audit_logs.created_at's type
  Oid sequence;
  char image_compression[2];  // old_data, new_data: how row images are compressed (image_compression.h)
  CommandId command;
  MemoryContext row_context;  // the buffered rows' values; reset after each write
  LeafRoutes* routes;         // fast path into a partitioned audit_logs: its leaves (partition_route.h)
  // The general path (general is false on the fast path, which leaves these unset).
  bool general;
  Oid owner;                        // the extension's owner: whom the INSERT is evaluated as
  TupleTableSlot* supplied;         // the 9 supplied values in their natural types
  TupleTableSlot* formed;           // the row of audit_logs the projection forms
  ProjectionInfo* projection;       // the INSERT's target list: coerced values, defaults, NULLs
  ModifyTableState* routing_state;  // partitioned audit_logs: tuple routing,
  PartitionTupleRouting* routing;   // set up at the first row
};

// What the writer decided about the current audit_logs (once per relcache version).
struct AuditLogShape {
  bool installed;    // the fast path applies
  bool partitioned;  // ... to a table partitioned by ranges of id
  Oid sequence;      // id's sequence (fast path only)
};

// Opens the table named audit_logs in `schema` now (RowExclusiveLock); 42P01 when
// there is none, 42809 when it is neither a table nor a partitioned table.
Relation open_audit_log(Oid schema, AuditLogShape* shape);

// For audit_check_options: raises, as an INSERT of the name into
// audit_logs.table_name would (22001 for a name too long), if table `name` of
// the audited table cannot be stored there.
void check_table_name_fits(Oid schema, const char* name);

// Opens audit_logs (RowExclusiveLock), its indexes and an executor state.
// capacity 1 writes each row at once (row mode); more batches them (statement mode).
void open_sink(AuditSink* sink, const AuditConfig& config, int capacity);

// Points an open sink at the audited table of config, in the current
// transaction and command; the table's name is allocated in context.
void target_sink(AuditSink* sink, const AuditConfig& config, MemoryContext context);

// Builds a sink (capacity 1) in the current memory context that may outlive
// the statement: its memory is kept until the context goes, and the relations
// are opened and closed around each use (row_sink.h). It leaves them open.
// Fast path only: `rel` is audit_logs, open, of the installed shape.
void build_lasting_sink(AuditSink* sink, Relation rel, const AuditLogShape& shape);

// The context the caller builds a row's values in (reset by flush_sink).
inline MemoryContext sink_row_context(const AuditSink* sink) { return sink->row_context; }

// Adds one row; writes the batch when it is full (the general path writes it at once).
void add_audit_row(AuditSink* sink, const AuditRow& row);

// Writes the buffered rows (heap, then indexes) and resets the row context.
void flush_sink(AuditSink* sink);

// Flushes, then closes the indexes and the relation and frees the executor state.
void close_sink(AuditSink* sink);

}  // namespace chronicle::audit
