// The audit subsystem: audit_trigger_function() writes one audit_logs row per
// inserted, updated or deleted row (README.md, "The audit log"). Its phases, a
// file each: trigger.cpp (the firing, row and statement mode, and
// audit_check_options), config.cpp (what a trigger derives once per relation
// version), context.cpp (who and from where: the settings), row.cpp (the JSONB
// images, changed_fields, the audit row) and sink.cpp (writing audit_logs).

#pragma once

#include "pg/postgres_headers.h"

#include <string_view>
#include <vector>

#include "pg/trigger.h"

extern "C" {
#include "commands/trigger.h"
#include "executor/execPartition.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
}

namespace chronicle::audit {

// What the audit trigger derives once per trigger and relation version: the
// parsed options, how each live column becomes JSONB and is compared, where the
// record id and user id come from, and where the audit log is. Built by
// build_audit_config into a TriggerCache entry (plain data in its own context).

// The option keys audit_trigger_function accepts (README.md, MIGRATIONS.md);
// enable_audit's own mode= is taken off before the rest reach the trigger.
inline const std::vector<std::string_view> kAuditOptionKeys{"ignore", "record_id", pg::kNotAnEditKey};

// How a column's value becomes a JSONB value: the categories of PostgreSQL's
// to_jsonb (jsonb_categorize_type), with the common built-in ones done here and
// everything else handed to to_jsonb itself, so the result is to_jsonb's.
enum class JsonKind : unsigned char {
  Bool,      // true / false
  Integer,   // int2, int4, int8: a number
  Numeric,   // a number; NaN and +-Infinity become strings
  Float,     // float4, float8: through the output function, as to_jsonb does
  DateTime,  // date, timestamp, timestamptz: ISO 8601 strings
  Text,      // text, varchar, bpchar: the string itself
  Output,    // any other built-in scalar: its output function's text
  ToJsonb,   // arrays, composites, json, jsonb, enums, user types: to_jsonb()
};

// How a column's old and new values are compared for changed_fields.
enum class Equality : unsigned char {
  Operator,  // the type's = operator (IS DISTINCT FROM semantics)
  Binary,    // no = operator (json, xml, point, polygon, arrays of those...):
             // changed when the (detoasted) representations differ
};

struct AuditColumn {
  AttrNumber attnum;
  const char* name;  // NameStr(attname), copied into the cache
  Datum name_text;   // the name as a text datum, for changed_fields
  JsonKind kind;
  Oid base_type;  // the type with domains looked through
  bool ignored;   // named by ignore=: left out of changed_fields
  Equality equality;
  bool typbyval;
  int16 typlen;
  Oid collation;
  FmgrInfo equal;     // Equality::Operator
  FmgrInfo output;    // JsonKind::Float, Numeric (NaN/Inf), Output
  FmgrInfo to_jsonb;  // JsonKind::ToJsonb: to_jsonb(anyelement) bound to the column's type
};

struct AuditConfig {
  int column_count;  // live (not dropped) columns, in attnum order
  AuditColumn* columns;
  int natts;                         // the relation's attribute count, dropped ones included
  AttrNumber record_id;              // uuid column for record_id, 0 for none
  AttrNumber user_id;                // uuid column user_id, 0 for none
  const pg::NotAnEdit* not_an_edit;  // not_an_edit=: UPDATEs to skip; nullptr without it
  const char* table_name;            // RelationGetRelationName, copied
  int primary_key_count;             // 0 when the table has no primary key
  AttrNumber* primary_key;           // its columns
  Oid audit_schema;                  // the extension's schema: the writer resolves the table
                                     // named audit_logs there at each write (sink.cpp)
  Oid extension_owner;               // pg_extension.extowner: whom the writer's INSERT is as
  const char* description;           // "trigger \"t\" on table \"s.r\"", for messages
};

// Parses the trigger's options and resolves everything above. Throws 22023 for
// a malformed or unknown option, 42703 / 42804 for a bad column; `function_oid`
// (the trigger function) locates the extension's schema and owner; 42P01
// when that schema has no audit_logs now.
AuditConfig* build_audit_config(TriggerData* trigger, MemoryContext context, Oid function_oid);

// Who made a change and from where: chronicle.actor_id, chronicle.client_ip and
// chronicle.user_agent, with the fallbacks of README.md, "Settings".

struct ChangeContext {
  bool has_actor;  // chronicle.actor_id is set
  Datum actor;     // its uuid
  bool has_ip;
  Datum ip;  // chronicle.client_ip, else inet_client_addr()
  bool has_agent;
  Datum agent;  // chronicle.user_agent as text
};

// Reads the settings once per firing. Throws 22P02 when chronicle.actor_id is
// set but not a uuid; a malformed chronicle.client_ip is inet's own 22P02.
// The settings are parsed once per value; the datums returned are copies in
// the current memory context (the firing's), so a nested firing that changes
// a setting cannot free what this firing still uses.
ChangeContext current_change_context();

// Defines the three settings above (the module's _PG_init calls it).
void define_settings();

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

enum class Operation { Insert, Update, Delete };

struct LeafRoutes;  // partition_route.h

// Fills `row` for one changed row: old_slot is NULL for an INSERT, new_slot for
// a DELETE. Allocates in CurrentMemoryContext and copies what it takes from the
// slots, so the slots may move on before the row is written.
// Hot path: plain PostgreSQL calls only (boundary rule 3).
void fill_audit_row(const AuditConfig& config, const ChangeContext& context, Operation operation,
                    TupleTableSlot* old_slot, TupleTableSlot* new_slot, AuditRow* row);

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
  char image_compression[2];  // old_data, new_data: how row images are compressed (sink.cpp)
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

// For audit_check_options: raises, as an INSERT of the name into
// audit_logs.table_name would (22001 for a name too long), if table `name` of
// the audited table cannot be stored there.
void check_table_name_fits(Oid schema, const char* name);

// Opens audit_logs (RowExclusiveLock), its indexes and an executor state.
// capacity 1 writes each row at once (row mode); more batches them (statement mode).
void open_sink(AuditSink* sink, const AuditConfig& config, int capacity);

// The context the caller builds a row's values in (reset by flush_sink).
inline MemoryContext sink_row_context(const AuditSink* sink) { return sink->row_context; }

// Adds one row; writes the batch when it is full (the general path writes it at once).
void add_audit_row(AuditSink* sink, const AuditRow& row);

// Writes the buffered rows (heap, then indexes) and resets the row context.
void flush_sink(AuditSink* sink);

// Flushes, then closes the indexes and the relation and frees the executor state.
void close_sink(AuditSink* sink);

// The sink for one audit row: audit_logs and its indexes opened
// (RowExclusiveLock), pointed at config's table. nullptr when the kept sink is
// in use (an audit write nested inside another's, through an index expression
// on audit_logs), or when audit_logs does not have the installed shape (the
// general path, above): the caller then opens a sink of its own.
AuditSink* acquire_row_sink(const AuditConfig& config);

// Closes the relations the row was written through; keeps the memory.
void release_row_sink(AuditSink* sink);

}  // namespace chronicle::audit
