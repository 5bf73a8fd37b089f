// The audit subsystem: audit_trigger_function() writes one audit_logs row per
// inserted, updated or deleted row (README.md, "The audit log"). Its phases, a
// file each: trigger.cpp (the firing, row and statement mode, and
// audit_check_options), config.cpp (what a trigger derives once per relation
// version), context.cpp (who and from where: the settings), row.cpp (the JSONB
// images, changed_fields, the audit row), sink.cpp (writing audit_logs) and
// route.cpp (the sink's rows into the leaves of a partitioned audit_logs).
// The audit log's lifecycle (1.3): partition.cpp (partition_audit_log,
// unpartition_audit_log), retention.cpp (maintain_audit_log,
// set_audit_retention) and lifecycle.cpp (what those two share).

#pragma once

#include "pg/postgres_headers.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/spi.h"
#include "pg/trigger.h"

extern "C" {
#include "commands/trigger.h"
#include "executor/execPartition.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "storage/lockdefs.h"
#include "utils/timestamp.h"
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
//    rows go to their leaf partition: write_routed_row below):
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

struct LeafRoutes;  // route.cpp

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
  LeafRoutes* routes;         // fast path into a partitioned audit_logs: its leaves (route.cpp)
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

// The sink's fast path into a partitioned audit_logs (1.3, partition_audit_log):
// each row goes to the leaf partition whose range of id holds it, found by a
// binary search of the parent's partition bounds, and is written there as the
// fast path writes a plain table (heap, CHECK and NOT NULL of the leaf, its
// index inserts). What it builds per leaf (the ResultRelInfo, its index infos,
// the CHECK expressions, the column map) is kept with the sink and reused while
// no relcache invalidation has come in since; the leaf and its indexes are
// opened around each write and closed after it, so a kept sink still holds no
// relation between rows. Plain C-style code that runs per row and may longjmp
// (boundary rule 3).

// Whether `rel` (partitioned) is partitioned the way the fast path routes: by
// range of its single column `id_attno` (1-based).
bool routable_by_id(Relation rel, AttrNumber id_attno);

// Writes the row in `slot` (in the parent's descriptor, `id` its id) into its
// leaf partition: 23514 when no partition takes it. *routes is created in
// `context` at the first row. `root` is the parent's ResultRelInfo.
void write_routed_row(LeafRoutes** routes, MemoryContext context, EState* estate, ResultRelInfo* root,
                      TupleTableSlot* slot, int64 id, CommandId command);

// The audit log's lifecycle (1.3): an audit log partitioned by ranges of id
// (partition.cpp), partitions made ahead and old ones dropped or archived
// (retention.cpp). The SQL functions are C++ (boundary rule 1) and run their
// statements through one SPI session; what SQL cannot do is done by the native
// steps below, plain C-style code called through pg_call (boundary rule 2).

inline constexpr int kAttemptMs = 50;          // the longest a writer may queue behind one attempt
inline constexpr int kDefaultBudgetMs = 2000;  // all attempts together, unless the session set lock_timeout
inline constexpr int kPartitionsAhead = 3;     // partitions kept beyond the one being written
inline constexpr int64 kDefaultPartitionSize = 1000000;
inline constexpr int64 kMinimumPartitionSize = 10000;
inline constexpr int64 kRateSampleIds = 100000;         // the write rate is measured over the newest ids
inline constexpr int32 kLifecycleLockKey = 0x63687231;  // with the schema's oid: one lifecycle call at a time

// The statements of one lifecycle call, through one SPI connection, in the
// schema of the extension that `function` (the SQL function called) belongs to.
class Sql {
 public:
  using Row = std::vector<std::optional<std::string>>;

  explicit Sql(Oid function);

  void run(const std::string& statement);
  std::vector<Row> rows(const std::string& query);
  std::optional<std::string> value(const std::string& query);  // the first column of the first row

  std::string qualified(const std::string& name) const;  // schema.name, quoted
  Oid relation(const std::string& name) const;           // the extension's relation `name`, or InvalidOid
  const std::string& schema() const { return schema_; }
  const std::string& schema_name() const { return schema_name_; }
  Oid schema_oid() const { return schema_oid_; }
  Oid extension() const { return extension_; }

 private:
  pg::SpiSession spi_;
  Oid schema_oid_;
  Oid extension_;
  std::string schema_name_;
  std::string schema_;
};
using Row = Sql::Row;

std::string quote_ident(const std::string& name);
std::string quote_literal(const std::string& text);
std::string partition_name(int64 number);  // audit_logs_pNNNNNN
int64 to_int64(const std::optional<std::string>& text);

// The owner of `relation` (pg::relation_owner), as a quoted role name.
std::string owner_of(Oid relation);

// A lock on relation, taken in attempts of kAttemptMs within the session's
// lock_timeout (else kDefaultBudgetMs); 55P03 when the budget runs out.
void lock_relation(Oid relation, LOCKMODE mode, const std::string& what);

// How long audit_logs has been held ACCESS EXCLUSIVE: DEBUG1.
void report_lock_time(const char* function, TimestampTz since);

// The advisory lock that keeps two lifecycle calls of one schema apart; false
// when !wait and another call holds it.
bool take_lifecycle_lock(Sql& sql, bool wait);

struct AuditLog {
  Oid oid = InvalidOid;
  char kind = '\0';  // pg_class.relkind
};

// The extension's audit_logs; 42P01 when there is none.
AuditLog find_audit_log(Sql& sql);

// The interval argument `index` as an SQL literal of type interval.
std::string interval_literal(FunctionCallInfo fcinfo, int index);

// 22023 unless the interval literal is positive.
void require_positive(Sql& sql, const std::string& interval, const char* name);

// ids per partition: the observed write rate times the interval; `fallback`
// when there is too little history to tell.
int64 partition_size(Sql& sql, const std::string& table, const std::string& interval, int64 fallback);

// The sequence behind audit_logs.id's default, quoted and qualified; 55000 when none.
std::string id_sequence(Sql& sql);

// The next value the sequence hands out.
int64 next_id(Sql& sql, const std::string& sequence);

// The audit_log_settings row.
struct Settings {
  bool present = false;
  std::string interval;
  int64 size = 0;
  int64 made = 0;
  std::optional<std::string> keep;
  std::optional<std::string> archive;
};
Settings read_settings(Sql& sql);

// A partition of audit_logs, in the order of its range.
struct Partition {
  std::string name;
  std::optional<int64> from;  // nullopt: MINVALUE
  std::optional<int64> to;    // nullopt: MAXVALUE, or the DEFAULT partition
  bool is_default;
  bool member;  // of the extension (the table partition_audit_log started from)
};
std::vector<Partition> partitions_of(Sql& sql, Oid parent);

// Native steps (boundary rule 2: call through pg_call).

// One attempt to take `mode` on `relation`, waiting at most timeout_ms, inside
// a subtransaction as a PL/pgSQL exception block runs it: true when locked
// (the lock then belongs to the transaction), false when lock_timeout expired
// (the subtransaction is rolled back and the error discarded). Any other error
// is raised.
bool try_lock_relation(Oid relation, LOCKMODE mode, int timeout_ms);

// Waits, at most timeout_ms, until every transaction that holds a lock on
// `relation` conflicting with `mode` has ended, without queueing a lock that
// would make new lockers wait (as CREATE INDEX CONCURRENTLY waits for writers).
// False when lock_timeout expired.
bool try_wait_for_lockers(Oid relation, LOCKMODE mode, int timeout_ms);

// The highest key of the primary key index of `relation` (a table whose
// primary key is a single bigint column), read from the index with
// SnapshotAny: every version of every row, live or dead, committed or not,
// has an entry there. Sets *found to false when the index is empty. The caller
// holds a lock that keeps new rows out. Raises 55000 when the primary key is
// not such an index.
int64 max_primary_key(Oid relation, bool* found);

// Records the CHECK constraint `name` of `relation`, added NOT VALID, as
// validated: exactly what ALTER TABLE ... VALIDATE CONSTRAINT records once its
// scan has found no violating row. Only for a constraint the caller has proven.
void mark_check_validated(Oid relation, const char* name);

// Makes `relation` a member of the extension `extension` (as ALTER EXTENSION
// ... ADD TABLE) whose rows pg_dump saves (as pg_extension_config_dump, which
// only an extension script may call: it is called here as if from one).
void add_extension_table(Oid extension, Oid relation);

}  // namespace chronicle::audit
