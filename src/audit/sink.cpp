#include "audit/audit.h"
#include "pg/catalog.h"
#include "pg/direct_write.h"
#include "timestamps/timestamps.h"

extern "C" {
#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type_d.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/xid8.h"
}

#ifdef USE_LZ4
#include <lz4.h>
#endif

namespace chronicle::audit {

// Row images are compressed here, when the row is formed, rather than left to
// TOAST: PostgreSQL compresses a value only once its whole row exceeds about
// 2 kB, and an audit row of two images of a typical row (0.5-2 kB of JSON with
// repeated keys) stays below that, so it would be written (heap and WAL) in full.
// A column whose storage the DBA set to PLAIN or EXTERNAL is never compressed;
// one with a compression method set (ALTER COLUMN ... SET COMPRESSION) uses it;
// otherwise lz4 when the server has it (fast enough to pay on every row), else
// the server's default_toast_compression.

namespace {

constexpr int32 kCompressImagesFrom = 128;  // bytes of JSON; below it nothing is gained

#ifdef USE_LZ4
// Kept only when it saves more than 2 bytes, as toast_compress_datum decides:
// the compressed form may need up to 3 bytes of alignment that a short
// uncompressed one does not.
bool saves_space(int32 compressed_size, int32 raw_size) { return compressed_size < raw_size - 2; }

// toast_compress_datum's lz4 path (LZ4_compress_default) first clears a 16 kB
// hash table on the stack, which for a short image costs more than
// compressing it. This backend's stream keeps its table:
// LZ4_resetStream_fast drops the history and moves the stream's offset past
// every entry in the table, so no stale entry can match and each image is an
// independent block, in the varlena format PostgreSQL decompresses as its own.
// From 4 kB on, the clear costs less than the compression, and PostgreSQL's call
// (a larger table for inputs under 64 kB) finds more matches: it is used there.
constexpr int32 kFastLz4Below = 4096;

LZ4_stream_t* lz4_stream() {
  static LZ4_stream_t stream;
  static bool initialized = false;
  if (!initialized) {
    LZ4_initStream(&stream, sizeof(stream));
    initialized = true;
  }
  LZ4_resetStream_fast(&stream);
  return &stream;
}

// value has a 4-byte header (not extended); raw_size is its data's length.
Datum compress_lz4(const struct varlena* value, int32 raw_size) {
  const int bound = LZ4_compressBound(raw_size);
  auto* out = static_cast<struct varlena*>(palloc(bound + VARHDRSZ_COMPRESSED));
  const int size = LZ4_compress_fast_continue(lz4_stream(), VARDATA(value),
                                              reinterpret_cast<char*>(out) + VARHDRSZ_COMPRESSED, raw_size, bound, 1);
  if (size <= 0 || !saves_space(static_cast<int32>(size + VARHDRSZ_COMPRESSED), raw_size)) {
    pfree(out);
    return 0;
  }
  SET_VARSIZE_COMPRESSED(out, size + VARHDRSZ_COMPRESSED);
  TOAST_COMPRESS_SET_SIZE_AND_COMPRESS_METHOD(out, raw_size, TOAST_LZ4_COMPRESSION_ID);
  return PointerGetDatum(out);
}
#endif

// The method for audit_logs column attno (0-based): the column's own, else lz4
// when the server has it, else default_toast_compression; InvalidCompressionMethod
// when the column's storage is PLAIN or EXTERNAL (never compressed).
char image_compression(Relation rel, int attno) {
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), attno);
  if (attr->attstorage != TYPSTORAGE_EXTENDED && attr->attstorage != TYPSTORAGE_MAIN) return InvalidCompressionMethod;
  if (CompressionMethodIsValid(attr->attcompression)) return attr->attcompression;
#ifdef USE_LZ4
  return TOAST_LZ4_COMPRESSION;
#else
  return static_cast<char>(default_toast_compression);
#endif
}

// The image compressed with method, or unchanged when it is small, already
// compressed or external, or when compressing saves nothing. Allocated in the
// current memory context.
Datum compress_image(Datum image, char method) {
  if (method == InvalidCompressionMethod) return image;
  const auto* value = reinterpret_cast<const struct varlena*>(DatumGetPointer(image));
  if (VARATT_IS_EXTENDED(value)) return image;
  const int32 raw_size = static_cast<int32>(VARSIZE(value) - VARHDRSZ);
  if (raw_size < kCompressImagesFrom) return image;
#ifdef USE_LZ4
  const bool fast_lz4 = method == TOAST_LZ4_COMPRESSION && raw_size < kFastLz4Below;
  Datum compressed = fast_lz4 ? compress_lz4(value, raw_size) : toast_compress_datum(image, method);
#else
  Datum compressed = toast_compress_datum(image, method);
#endif
  return compressed != 0 ? compressed : image;
}

}  // namespace

namespace {

// What the writer decided about the current audit_logs (once per relcache version).
struct AuditLogShape {
  bool installed;    // the fast path applies
  bool partitioned;  // ... to a table partitioned by ranges of id
  Oid sequence;      // id's sequence (fast path only)
};

constexpr const char* kColumnNames[kAuditColumnCount] = {
    "id",       "table_name",     "operation",  "record_id",  "user_id",    "old_data",
    "new_data", "changed_fields", "ip_address", "user_agent", "created_at",
};

void report_missing_column(Relation rel, const char* name) {
  ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                  errmsg("column \"%s\" of relation \"%s\" does not exist", name, RelationGetRelationName(rel)),
                  errdetail("The audit trigger supplies a value for this column.")));
}

constexpr const char* kTransactionIdColumn = "transaction_id";  // from 1.3

void map_columns(AuditSink* sink) {
  TupleDesc desc = RelationGetDescr(sink->relation);
  for (int c = 0; c < kAuditColumnCount; ++c) {
    sink->attno[c] = pg::live_column(desc, kColumnNames[c]) - 1;  // an index into the slot's arrays
    if (sink->attno[c] < 0) report_missing_column(sink->relation, kColumnNames[c]);
  }
  sink->transaction_id_attno = pg::live_column(desc, kTransactionIdColumn) - 1;
}

// audit_logs' columns as chronicle--1.0.sql creates them: the fast path's row.
struct InstalledColumn {
  Oid type;
  int32 typmod;
};
constexpr InstalledColumn kInstalledColumns[kAuditColumnCount] = {
    {INT8OID, -1},
    {VARCHAROID, 50 + VARHDRSZ},
    {VARCHAROID, 10 + VARHDRSZ},
    {UUIDOID, -1},
    {UUIDOID, -1},
    {JSONBOID, -1},
    {JSONBOID, -1},
    {TEXTARRAYOID, -1},
    {INETOID, -1},
    {TEXTOID, -1},
    {TIMESTAMPOID, -1},
};

// id's default is nextval() of the sequence audit_logs.id owns: its oid, else InvalidOid.
Oid installed_id_sequence(Relation rel, AttrNumber id) {
  Node* expression = build_column_default(rel, id);
  if (expression == nullptr || !IsA(expression, FuncExpr)) return InvalidOid;
  auto* call = reinterpret_cast<FuncExpr*>(expression);
  if (call->funcid != F_NEXTVAL || list_length(call->args) != 1 || !IsA(linitial(call->args), Const)) {
    return InvalidOid;
  }
  auto* argument = static_cast<Const*>(linitial(call->args));
  if (argument->consttype != REGCLASSOID || argument->constisnull) return InvalidOid;
  const Oid sequence = DatumGetObjectId(argument->constvalue);
  Oid table = InvalidOid;
  int32 column = 0;
  if (!sequenceIsOwned(sequence, DEPENDENCY_AUTO, &table, &column) || table != RelationGetRelid(rel) || column != id) {
    return InvalidOid;
  }
  return sequence;
}

// created_at's default is CURRENT_TIMESTAMP (as the column's type).
bool installed_created_at_default(Relation rel, AttrNumber created_at) {
  Node* expression = build_column_default(rel, created_at);
  if (expression == nullptr) return false;
  expression = strip_implicit_coercions(expression);
  return IsA(expression, SQLValueFunction) &&
         reinterpret_cast<SQLValueFunction*>(expression)->op == SVFOP_CURRENT_TIMESTAMP;
}

// transaction_id (1.3) as the extension installs it: xid8 DEFAULT
// pg_current_xact_id(), the value the fast path writes itself.
bool installed_transaction_id(Relation rel, AttrNumber attnum) {
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
  if (attr->atttypid != XID8OID || attr->attgenerated != '\0' || attr->attidentity != '\0') return false;
  Node* expression = build_column_default(rel, attnum);
  return expression != nullptr && IsA(expression, FuncExpr) &&
         reinterpret_cast<FuncExpr*>(expression)->funcid == F_PG_CURRENT_XACT_ID;
}

// Whether rel has the shape the extension installs, for which the fast path
// stores exactly what an INSERT would. Catalog lookups: once per relcache version.
AuditLogShape installed_shape(Relation rel) {
  AuditLogShape shape{false, false, InvalidOid};
  const bool partitioned = rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE;
  if (rel->rd_rel->relkind != RELKIND_RELATION && !partitioned) return shape;
  TupleDesc desc = RelationGetDescr(rel);
  int live = 0;
  for (int i = 0; i < desc->natts; ++i) live += TupleDescAttr(desc, i)->attisdropped ? 0 : 1;
  // 1.0 to 1.2: the 11 columns; 1.3 adds transaction_id.
  const AttrNumber transaction_id = pg::live_column(desc, kTransactionIdColumn);
  if (transaction_id != InvalidAttrNumber && !installed_transaction_id(rel, transaction_id)) return shape;
  if (live != kAuditColumnCount + (transaction_id != InvalidAttrNumber ? 1 : 0)) return shape;
  AttrNumber attnum[kAuditColumnCount];
  for (int c = 0; c < kAuditColumnCount; ++c) {
    attnum[c] = pg::live_column(desc, kColumnNames[c]);
    if (attnum[c] == InvalidAttrNumber) return shape;
    Form_pg_attribute attr = TupleDescAttr(desc, attnum[c] - 1);
    if (attr->atttypid != kInstalledColumns[c].type || attr->atttypmod != kInstalledColumns[c].typmod ||
        attr->attgenerated != '\0' || attr->attidentity != '\0') {
      return shape;
    }
  }
  // Internal triggers enforce foreign keys and deferrable unique / exclusion
  // constraints: the fast path fires no trigger.
  if (rel->trigdesc != nullptr) {
    for (int i = 0; i < rel->trigdesc->numtriggers; ++i) {
      if (rel->trigdesc->triggers[i].tgisinternal) return shape;
    }
  }
  List* indexes = RelationGetIndexList(rel);
  ListCell* cell;
  foreach (cell, indexes) {
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(cell)));
    if (!HeapTupleIsValid(tuple)) {
      ereport(ERROR,
              (errcode(ERRCODE_INTERNAL_ERROR), errmsg_internal("cache lookup failed for index %u", lfirst_oid(cell))));
    }
    const bool immediate = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple))->indimmediate;
    ReleaseSysCache(tuple);
    if (!immediate) return shape;
  }
  list_free(indexes);
  if (!installed_created_at_default(rel, attnum[kCreatedAt])) return shape;
  if (partitioned && !routable_by_id(rel, attnum[kId])) return shape;
  shape.sequence = installed_id_sequence(rel, attnum[kId]);
  shape.installed = OidIsValid(shape.sequence);
  shape.partitioned = partitioned;
  return shape;
}

// Which table is audit_logs, per schema, and what the writer decided about it.
// Cleared by a relcache invalidation of that table (RENAME, DROP, SET SCHEMA and
// every ALTER send one); "not found" is never remembered.
struct ResolvedAuditLog {
  bool valid;
  bool shape_known;
  Oid schema;
  Oid relation;
  AuditLogShape shape;
};
ResolvedAuditLog resolved{false, false, InvalidOid, InvalidOid, {false, false, InvalidOid}};
bool resolved_callback_registered = false;

void invalidate_resolved(Datum, Oid relation) {
  if (relation == InvalidOid || relation == resolved.relation) resolved.valid = false;
}

// The table name as a value of audit_logs.table_name's type, through the length
// coercion an INSERT would apply (varchar(50): 22001 when it is too long).
Datum coerce_table_name(AuditSink* sink, const char* name) {
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(sink->relation), sink->attno[kTableName]);
  Datum value = PointerGetDatum(cstring_to_text(name));
  if (attr->atttypid == VARCHAROID && attr->atttypmod >= 0) {
    value = DirectFunctionCall3(varchar, value, Int32GetDatum(attr->atttypmod), BoolGetDatum(false));
  }
  return value;
}

// The CHECK constraints of audit_logs, parsed and planned once per relation
// version instead of once per audit row: the executor would otherwise run
// stringToNode and the expression planner for every ResultRelInfo, i.e. for every
// row in row mode (that is what an SPI INSERT per row pays). Invalidated by a
// relcache callback; a superseded tree is freed only when no sink can be using it.
struct CheckConstraints {
  Oid relation;
  bool valid;
  int count;
  Expr** expressions;
  MemoryContext context;
};
CheckConstraints checks{InvalidOid, false, 0, nullptr, nullptr};
bool checks_callback_registered = false;
int open_sinks = 0;

void invalidate_checks(Datum, Oid relation) {
  if (relation == InvalidOid || relation == checks.relation) checks.valid = false;
}

// A sink left open by an ERROR is gone with its transaction.
void forget_open_sinks(XactEvent, void*) { open_sinks = 0; }

// Gives the sink's ResultRelInfo its CHECK expressions, as ExecRelCheck would
// build them (in the same order), from the cached planned trees; a sink that
// outlives its statement (own_copy) builds them from a copy of its own.
void prepare_checks(AuditSink* sink, bool own_copy) {
  Relation rel = sink->relation;
  TupleConstr* constr = rel->rd_att->constr;
  if (constr == nullptr || constr->num_check == 0) return;
  if (!checks_callback_registered) {
    CacheRegisterRelcacheCallback(invalidate_checks, 0);
    RegisterXactCallback(forget_open_sinks, nullptr);
    checks_callback_registered = true;
  }
  if (!checks.valid || checks.relation != RelationGetRelid(rel) || checks.count != constr->num_check) {
    if (checks.context != nullptr && open_sinks == 0) MemoryContextDelete(checks.context);
    checks.context = nullptr;
    checks.valid = false;
    MemoryContext context = AllocSetContextCreate(CacheMemoryContext, "chronicle audit_logs checks",
                                                  ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(context);
    checks.expressions = static_cast<Expr**>(palloc(sizeof(Expr*) * constr->num_check));
    for (int i = 0; i < constr->num_check; ++i) {
      checks.expressions[i] = expression_planner(static_cast<Expr*>(stringToNode(constr->check[i].ccbin)));
    }
    MemoryContextSwitchTo(old);
    checks.context = context;
    checks.relation = RelationGetRelid(rel);
    checks.count = constr->num_check;
    checks.valid = true;
  }
  MemoryContext old = MemoryContextSwitchTo(sink->estate->es_query_cxt);
  auto** states = static_cast<ExprState**>(palloc(sizeof(ExprState*) * checks.count));
  for (int i = 0; i < checks.count; ++i) {
    Expr* expression = own_copy ? static_cast<Expr*>(copyObjectImpl(checks.expressions[i])) : checks.expressions[i];
    states[i] = ExecInitExpr(expression, nullptr);
  }
  sink->result->ri_ConstraintExprs = states;
  MemoryContextSwitchTo(old);
}

void write_batch(AuditSink* sink) {
  Assert(!sink->general && sink->used > 0 && sink->used <= sink->capacity);
  Relation rel = sink->relation;
  EState* estate = sink->estate;
  if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) {
    // Each row into its leaf, whose own CHECK and NOT NULL constraints hold.
    for (int i = 0; i < sink->used; ++i) {
      TupleTableSlot* slot = sink->slots[i];
      write_routed_row(&sink->routes, estate->es_query_cxt, estate, sink->result, slot,
                       DatumGetInt64(slot->tts_values[sink->attno[kId]]), sink->command);
      ExecClearTuple(slot);
    }
    sink->used = 0;
    return;
  }
  if (rel->rd_att->constr != nullptr) {
    for (int i = 0; i < sink->used; ++i) ExecConstraints(sink->result, sink->slots[i], estate);
  }
  if (sink->used == 1) {
    table_tuple_insert(rel, sink->slots[0], sink->command, 0, nullptr);
  } else {
    table_multi_insert(rel, sink->slots, sink->used, sink->command, 0, nullptr);
  }
  for (int i = 0; i < sink->used; ++i) {
    if (sink->result->ri_NumIndices > 0) {
      ResetPerTupleExprContext(estate);
      ExecInsertIndexTuples(sink->result, sink->slots[i], estate, false, false, nullptr, NIL);
    }
    ExecClearTuple(sink->slots[i]);
  }
  sink->used = 0;
}

// The supplied values' natural types, in kSupplied order.
constexpr AuditColumnIndex kSupplied[] = {kTableName, kOperation,     kRecordId,  kUserId,   kOldData,
                                          kNewData,   kChangedFields, kIpAddress, kUserAgent};
constexpr int kSuppliedCount = sizeof(kSupplied) / sizeof(kSupplied[0]);
constexpr Oid kSuppliedTypes[kSuppliedCount] = {TEXTOID,  TEXTOID,      UUIDOID, UUIDOID, JSONBOID,
                                                JSONBOID, TEXTARRAYOID, INETOID, TEXTOID};

// The INSERT's target list, as the rewriter and planner would build it for
// INSERT INTO audit_logs (<the 9 supplied columns>) VALUES (...): a supplied
// column gets its value (a Var of the supplied slot) coerced by assignment to
// the column's type; a generated column NULL (computed later); any other its
// default, or a NULL coerced to its domain; a dropped column a NULL.
List* insert_target_list(Relation rel, TupleDesc supplied) {
  TupleDesc desc = RelationGetDescr(rel);
  List* targets = NIL;
  int found = 0;
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute attr = TupleDescAttr(desc, i);
    const AttrNumber attnum = static_cast<AttrNumber>(i + 1);
    Node* expression = nullptr;
    int position = -1;
    if (!attr->attisdropped) {
      for (int k = 0; k < kSuppliedCount; ++k) {
        if (std::strcmp(NameStr(attr->attname), kColumnNames[kSupplied[k]]) == 0) position = k;
      }
    }
    if (attr->attisdropped) {
      expression = reinterpret_cast<Node*>(makeNullConst(INT4OID, -1, InvalidOid));
    } else if (position >= 0) {
      ++found;
      if (attr->attgenerated != '\0' || attr->attidentity == ATTRIBUTE_IDENTITY_ALWAYS) {
        ereport(ERROR, (errcode(ERRCODE_GENERATED_ALWAYS),
                        errmsg("cannot insert a non-DEFAULT value into column \"%s\"", NameStr(attr->attname)),
                        attr->attgenerated != '\0'
                            ? errdetail("Column \"%s\" is a generated column.", NameStr(attr->attname))
                            : errdetail("Column \"%s\" is an identity column defined as GENERATED ALWAYS.",
                                        NameStr(attr->attname))));
      }
      const Oid type = kSuppliedTypes[position];
      Var* value = makeVar(1, static_cast<AttrNumber>(position + 1), type, -1,
                           TupleDescAttr(supplied, position)->attcollation, 0);
      expression = coerce_to_target_type(nullptr, reinterpret_cast<Node*>(value), type, attr->atttypid, attr->atttypmod,
                                         COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
      if (expression == nullptr) {
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("column \"%s\" is of type %s but expression is of type %s", NameStr(attr->attname),
                               format_type_be(attr->atttypid), format_type_be(type)),
                        errhint("You will need to rewrite or cast the expression.")));
      }
    } else if (attr->attgenerated != '\0') {
      expression = reinterpret_cast<Node*>(makeNullConst(attr->atttypid, attr->atttypmod, attr->attcollation));
    } else {
      expression = build_column_default(rel, attnum);
      if (expression == nullptr) {
        expression = reinterpret_cast<Node*>(
            makeConst(attr->atttypid, -1, attr->attcollation, attr->attlen, 0, true, attr->attbyval));
        expression = coerce_to_domain(expression, InvalidOid, -1, attr->atttypid, COERCION_IMPLICIT,
                                      COERCE_IMPLICIT_CAST, -1, false);
      }
    }
    targets = lappend(targets, makeTargetEntry(expression_planner(reinterpret_cast<Expr*>(expression)), attnum,
                                               pstrdup(NameStr(attr->attname)), false));
  }
  if (found < kSuppliedCount) {
    for (const int column : kSupplied) {
      if (pg::live_column(desc, kColumnNames[column]) == InvalidAttrNumber)
        report_missing_column(rel, kColumnNames[column]);
    }
  }
  Assert(found == kSuppliedCount);
  return targets;
}

// The general path's parts of a sink, in the executor state's context.
void build_general(AuditSink* sink, Oid owner) {
  Relation rel = sink->relation;
  EState* estate = sink->estate;
  sink->general = true;
  sink->owner = owner;
  TupleDesc supplied = CreateTemplateTupleDesc(kSuppliedCount);
  for (int k = 0; k < kSuppliedCount; ++k) {
    TupleDescInitEntry(supplied, static_cast<AttrNumber>(k + 1), kColumnNames[kSupplied[k]], kSuppliedTypes[k], -1, 0);
    TupleDescInitEntryCollation(supplied, static_cast<AttrNumber>(k + 1),
                                kSuppliedTypes[k] == TEXTOID ? DEFAULT_COLLATION_OID : InvalidOid);
  }
  sink->supplied = ExecAllocTableSlot(&estate->es_tupleTable, supplied, &TTSOpsVirtual);
  sink->formed = ExecAllocTableSlot(&estate->es_tupleTable, RelationGetDescr(rel), &TTSOpsVirtual);
  // The defaults (nextval()...) are the owner's to evaluate, also while planning.
  Oid user = InvalidOid;
  int security = 0;
  GetUserIdAndSecContext(&user, &security);
  SetUserIdAndSecContext(owner, security | SECURITY_LOCAL_USERID_CHANGE);
  List* targets = insert_target_list(rel, supplied);
  SetUserIdAndSecContext(user, security);
  sink->projection = ExecBuildProjectionInfo(targets, GetPerTupleExprContext(estate), sink->formed, nullptr, supplied);
  // AFTER triggers fired at the end of each row find this ResultRelInfo here.
  estate->es_opened_result_relations = lappend(estate->es_opened_result_relations, sink->result);
}

// Keeps only the internal triggers of a ResultRelInfo (foreign-key checks,
// deferrable unique / exclusion rechecks), with the flags ExecAR*Triggers test
// recomputed. Idempotent: a leaf partition's is filtered at each row.
void keep_internal_triggers(ResultRelInfo* result) {
  TriggerDesc* desc = result->ri_TrigDesc;
  if (desc == nullptr) return;
  int kept = 0;
  for (int i = 0; i < desc->numtriggers; ++i) {
    if (desc->triggers[i].tgisinternal) desc->triggers[kept++] = desc->triggers[i];
  }
  Trigger* triggers = desc->triggers;
  std::memset(desc, 0, sizeof(TriggerDesc));
  desc->triggers = triggers;
  desc->numtriggers = kept;
  for (int i = 0; i < kept; ++i) {
    if (TRIGGER_TYPE_MATCHES(triggers[i].tgtype, TRIGGER_TYPE_ROW, TRIGGER_TYPE_AFTER, TRIGGER_TYPE_INSERT)) {
      desc->trig_insert_after_row = true;
    }
  }
  if (kept == 0) result->ri_TrigDesc = nullptr;
}

// What a sink needs of audit_logs itself, built in the current memory context
// (the executor state's, below it). A sink that outlives its statement forms
// its rows with a copy of the descriptor: a slot pins a relation's own
// descriptor in the current resource owner, and a kept slot outlives that owner.
void build_sink(AuditSink* sink, int capacity, bool outlives_statement, const AuditLogShape& shape, Oid owner) {
  Relation rel = sink->relation;
  Assert(shape.installed || !outlives_statement);
  sink->estate = CreateExecutorState();
  EState* estate = sink->estate;
  sink->result = pg::open_result_relation(estate, rel, nullptr);  // the audit log is only inserted into
  MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
  sink->capacity = capacity;
  sink->row_context = AllocSetContextCreate(estate->es_query_cxt, "chronicle audit rows", ALLOCSET_DEFAULT_SIZES);
  if (!shape.installed) {
    build_general(sink, owner);
    keep_internal_triggers(sink->result);
    MemoryContextSwitchTo(old);
    return;
  }
  MemoryContextSwitchTo(old);
  map_columns(sink);
  sink->sequence = shape.sequence;
  if (shape.partitioned) {
    // Rows are written into the leaves (route.cpp), through their own
    // indexes and constraints: the parent's partitioned indexes are not used.
    ExecCloseIndices(sink->result);
    sink->result->ri_NumIndices = 0;
  } else {
    prepare_checks(sink, outlives_statement);
  }
  old = MemoryContextSwitchTo(estate->es_query_cxt);
  sink->slots = static_cast<TupleTableSlot**>(palloc0(sizeof(TupleTableSlot*) * capacity));
  sink->slot_descriptor = outlives_statement ? CreateTupleDescCopy(RelationGetDescr(rel)) : RelationGetDescr(rel);
  // Slots are made as rows arrive: a one-row statement must not pay for a batch.
  MemoryContextSwitchTo(old);
  sink->image_compression[0] = image_compression(rel, sink->attno[kOldData]);
  sink->image_compression[1] = image_compression(rel, sink->attno[kNewData]);
}

// The general path's write of one row, as ExecInsert does it for a plain
// INSERT, evaluated as the extension's owner. An ERROR anywhere aborts the
// (sub)transaction, which also restores the user (as for SECURITY DEFINER).
void write_general_row(AuditSink* sink, const AuditRow& row) {
  Assert(sink->general && sink->used == 0 && sink->projection != nullptr && OidIsValid(sink->owner));
  EState* estate = sink->estate;
  Oid user = InvalidOid;
  int security = 0;
  GetUserIdAndSecContext(&user, &security);
  SetUserIdAndSecContext(sink->owner, security | SECURITY_LOCAL_USERID_CHANGE);
  ResetPerTupleExprContext(estate);

  TupleTableSlot* supplied = sink->supplied;
  ExecClearTuple(supplied);
  Datum* values = supplied->tts_values;
  bool* nulls = supplied->tts_isnull;
  const auto set = [&](int position, Datum value, bool is_null) {
    values[position] = is_null ? 0 : value;
    nulls[position] = is_null;
  };
  set(0, sink->table_name, false);
  set(1, PointerGetDatum(cstring_to_text(row.operation)), false);
  set(2, row.record_id, row.record_id_null);
  set(3, row.user_id, row.user_id_null);
  set(4, row.old_data, row.old_data_null);
  set(5, row.new_data, row.new_data_null);
  set(6, row.changed_fields, false);
  set(7, row.ip_address, row.ip_address_null);
  set(8, row.user_agent, row.user_agent_null);
  ExecStoreVirtualTuple(supplied);

  ExprContext* econtext = sink->projection->pi_exprContext;
  econtext->ecxt_scantuple = supplied;
  TupleTableSlot* slot = ExecProject(sink->projection);
  ExecMaterializeSlot(slot);  // its values outlive the per-tuple memory

  AfterTriggerBeginQuery();
  ResultRelInfo* target = sink->result;
  if (sink->relation->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) {
    if (sink->routing == nullptr) {
      // As logical replication's apply routes a row (worker.c), in the executor
      // state's context: the routing lives as long as the sink.
      MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
      ModifyTableState* state = makeNode(ModifyTableState);
      state->ps.plan = nullptr;
      state->ps.state = estate;
      state->operation = CMD_INSERT;
      state->mt_nrels = 1;
      state->resultRelInfo = sink->result;
      state->rootResultRelInfo = sink->result;
      sink->routing_state = state;
      sink->routing = ExecSetupPartitionTupleRouting(estate, sink->relation);
      MemoryContextSwitchTo(old);
    }
    target = ExecFindPartition(sink->routing_state, sink->result, sink->routing, slot, estate);  // 23514: none
    keep_internal_triggers(target);
    if (target->ri_RootToPartitionMap != nullptr) {
      slot = execute_attr_map_slot(target->ri_RootToPartitionMap->attrMap, slot, target->ri_PartitionTupleSlot);
    }
  }
  Relation rel = target->ri_RelationDesc;
  if (rel->rd_rel->relkind != RELKIND_RELATION) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot write an audit row into partition \"%s\" of \"%s\"", RelationGetRelationName(rel),
                           RelationGetRelationName(sink->relation)),
                    errdetail("The audit writer writes plain tables only.")));
  }
  if (rel->rd_att->constr != nullptr && rel->rd_att->constr->has_generated_stored) {
    ExecComputeStoredGenerated(target, estate, slot, CMD_INSERT);
  }
  if (rel->rd_att->constr != nullptr) ExecConstraints(target, slot, estate);
  if (rel->rd_rel->relispartition && target->ri_RootResultRelInfo == nullptr) {
    ExecPartitionCheck(target, slot, estate, true);  // audit_logs is itself a partition
  }
  table_tuple_insert(rel, slot, sink->command, 0, nullptr);
  List* recheck = NIL;
  if (target->ri_NumIndices > 0) recheck = ExecInsertIndexTuples(target, slot, estate, false, false, nullptr, NIL);
  ExecARInsertTriggers(estate, target, slot, recheck, nullptr);
  list_free(recheck);
  AfterTriggerEndQuery(estate);  // the immediate ones fire here; deferred ones when checked
  ExecClearTuple(slot);
  ExecClearTuple(sink->formed);
  SetUserIdAndSecContext(user, security);
}

}  // namespace

namespace {

// Opens the table named audit_logs in `schema` now (RowExclusiveLock); 42P01 when
// there is none, 42809 when it is neither a table nor a partitioned table.
Relation open_audit_log(Oid schema, AuditLogShape* shape) {
  if (!resolved_callback_registered) {
    CacheRegisterRelcacheCallback(invalidate_resolved, 0);
    resolved_callback_registered = true;
  }
  for (;;) {
    if (!resolved.valid || resolved.schema != schema) {
      const Oid relation = pg::find_extension_relation(schema, "audit_logs");
      if (!OidIsValid(relation)) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation \"%s.audit_logs\" does not exist", get_namespace_name(schema))));
      }
      resolved = ResolvedAuditLog{true, false, schema, relation, {false, false, InvalidOid}};
    }
    const Oid relation = resolved.relation;
    // Taking the lock takes in the invalidations: a rename or drop committed
    // since the lookup clears `resolved`, and the name is looked up again.
    Relation rel = try_relation_open(relation, RowExclusiveLock);
    if (rel != nullptr && resolved.valid && resolved.relation == relation) {
      if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) {
        ereport(ERROR,
                (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
      }
      if (!resolved.shape_known) {
        resolved.shape = installed_shape(rel);
        resolved.shape_known = resolved.valid;  // an invalidation while looking: decide again next time
      }
      *shape = resolved.shape;
      return rel;
    }
    if (rel != nullptr) relation_close(rel, RowExclusiveLock);
    resolved.valid = false;
  }
}

// Points an open sink at the audited table of config, in the current
// transaction and command; the table's name is allocated in context.
void target_sink(AuditSink* sink, const AuditConfig& config, MemoryContext context) {
  MemoryContext old = MemoryContextSwitchTo(context);
  if (sink->general) {
    sink->table_name = PointerGetDatum(cstring_to_text(config.table_name));  // coerced by the projection
  } else {
    sink->table_name = coerce_table_name(sink, config.table_name);
    sink->created_at = timestamps::current_timestamp_as(
        TupleDescAttr(RelationGetDescr(sink->relation), sink->attno[kCreatedAt])->atttypid);
    // What the column's default, pg_current_xact_id(), gives: the top-level
    // transaction's id, also from a subtransaction.
    if (sink->transaction_id_attno >= 0) sink->transaction_id = FullTransactionIdGetDatum(GetTopFullTransactionId());
  }
  MemoryContextSwitchTo(old);
  sink->command = GetCurrentCommandId(true);
  sink->estate->es_output_cid = sink->command;
}

}  // namespace

void open_sink(AuditSink* sink, const AuditConfig& config, int capacity) {
  *sink = AuditSink{};
  AuditLogShape shape{};
  sink->relation = open_audit_log(config.audit_schema, &shape);
  build_sink(sink, capacity, false, shape, config.extension_owner);
  ++open_sinks;
  target_sink(sink, config, sink->estate->es_query_cxt);
}

namespace {

// Builds a sink (capacity 1) in the current memory context that may outlive
// the statement: its memory is kept until the context goes, and the relations
// are opened and closed around each use (acquire_row_sink). It leaves them open.
// Fast path only: `rel` is audit_logs, open, of the installed shape.
void build_lasting_sink(AuditSink* sink, Relation rel, const AuditLogShape& shape) {
  Assert(shape.installed);
  *sink = AuditSink{};
  sink->relation = rel;
  build_sink(sink, 1, true, shape, InvalidOid);
}

}  // namespace

void add_audit_row(AuditSink* sink, const AuditRow& row) {
  if (sink->general) {
    write_general_row(sink, row);
    MemoryContextReset(sink->row_context);  // the row's values, built by the caller in it
    return;
  }
  Assert(sink->slots != nullptr && sink->used < sink->capacity && OidIsValid(sink->sequence));
  if (sink->slots[sink->used] == nullptr) {
    // In the executor state's context: the caller's (the row context) is reset by every write.
    MemoryContext old = MemoryContextSwitchTo(sink->estate->es_query_cxt);
    sink->slots[sink->used] = ExecAllocTableSlot(&sink->estate->es_tupleTable, sink->slot_descriptor, &TTSOpsVirtual);
    MemoryContextSwitchTo(old);
  }
  TupleTableSlot* slot = sink->slots[sink->used];
  ExecClearTuple(slot);
  Datum* values = slot->tts_values;
  bool* nulls = slot->tts_isnull;
  const int natts = slot->tts_tupleDescriptor->natts;
  for (int i = 0; i < natts; ++i) {
    values[i] = 0;
    nulls[i] = true;  // a column the audit row does not know stays NULL
  }
  const auto set = [&](int column, Datum value, bool is_null) {
    values[sink->attno[column]] = value;
    nulls[sink->attno[column]] = is_null;
  };
  // The id: nextval without a permission check, since the writer, not the
  // caller, owns the audit log (as the column default would, for its owner).
  set(kId, Int64GetDatum(nextval_internal(sink->sequence, false)), false);
  set(kTableName, sink->table_name, false);
  set(kOperation, PointerGetDatum(cstring_to_text(row.operation)), false);
  set(kRecordId, row.record_id, row.record_id_null);
  set(kUserId, row.user_id, row.user_id_null);
  {
    MemoryContext old = MemoryContextSwitchTo(sink->row_context);
    set(kOldData, row.old_data_null ? 0 : compress_image(row.old_data, sink->image_compression[0]), row.old_data_null);
    set(kNewData, row.new_data_null ? 0 : compress_image(row.new_data, sink->image_compression[1]), row.new_data_null);
    MemoryContextSwitchTo(old);
  }
  set(kChangedFields, row.changed_fields, false);
  set(kIpAddress, row.ip_address, row.ip_address_null);
  set(kUserAgent, row.user_agent, row.user_agent_null);
  set(kCreatedAt, sink->created_at, false);
  if (sink->transaction_id_attno >= 0) {
    values[sink->transaction_id_attno] = sink->transaction_id;
    nulls[sink->transaction_id_attno] = false;
  }
  ExecStoreVirtualTuple(slot);
  if (++sink->used == sink->capacity) flush_sink(sink);
}

void flush_sink(AuditSink* sink) {
  if (sink->used > 0) write_batch(sink);
  MemoryContextReset(sink->row_context);
}

// The relations the internal triggers' firing opened (ExecGetTriggerResultRel),
// closed as ExecCloseResultRelations closes them. Written out here because
// PostgreSQL's own function for it, ExecCloseTrigTargetRelations, only exists
// from 15.19 on, and one library must load on every 15.x server.
namespace {
void close_trigger_target_relations(EState* estate) {
  ListCell* cell = nullptr;
  foreach (cell, estate->es_trig_target_relations) {
    auto* result = static_cast<ResultRelInfo*>(lfirst(cell));
    ExecCloseIndices(result);
    table_close(result->ri_RelationDesc, NoLock);
  }
  estate->es_trig_target_relations = NIL;
}
}  // namespace

void close_sink(AuditSink* sink) {
  flush_sink(sink);
  if (sink->routing != nullptr) ExecCleanupTupleRouting(sink->routing_state, sink->routing);
  close_trigger_target_relations(sink->estate);
  ExecCloseIndices(sink->result);
  ExecResetTupleTable(sink->estate->es_tupleTable, false);
  FreeExecutorState(sink->estate);
  table_close(sink->relation, NoLock);
  --open_sinks;
  *sink = AuditSink{};
}

void check_table_name_fits(Oid schema, const char* name) {
  AuditLogShape shape{};
  Relation rel = open_audit_log(schema, &shape);
  const AttrNumber attnum = pg::live_column(RelationGetDescr(rel), kColumnNames[kTableName]);
  if (attnum == InvalidAttrNumber) report_missing_column(rel, kColumnNames[kTableName]);
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
  Node* value = reinterpret_cast<Node*>(
      makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1, PointerGetDatum(cstring_to_text(name)), false, false));
  Node* coerced = coerce_to_target_type(nullptr, value, TEXTOID, attr->atttypid, attr->atttypmod, COERCION_ASSIGNMENT,
                                        COERCE_IMPLICIT_CAST, -1);
  if (coerced == nullptr) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("column \"%s\" is of type %s but expression is of type %s", NameStr(attr->attname),
                           format_type_be(attr->atttypid), format_type_be(TEXTOID)),
                    errhint("You will need to rewrite or cast the expression.")));
  }
  // The coercion as an INSERT evaluates it (varchar(n): 22001 when too long),
  // with the table's name and the column added to what it reports.
  MemoryContext caller = CurrentMemoryContext;
  PG_TRY();
  {
    EState* estate = CreateExecutorState();
    ExprState* state = ExecPrepareExpr(reinterpret_cast<Expr*>(coerced), estate);
    bool is_null = false;
    ExecEvalExprSwitchContext(state, GetPerTupleExprContext(estate), &is_null);
    FreeExecutorState(estate);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    if (error->detail == nullptr) {
      error->detail = psprintf("The audit log stores the name of table \"%s\" in %s.%s.", name,
                               RelationGetRelationName(rel), NameStr(attr->attname));
    }
    ReThrowError(error);
  }
  PG_END_TRY();
  relation_close(rel, NoLock);
}

// Row mode's sink, kept from one audited row to the next. Opening a sink (the
// executor state, the ResultRelInfo, the index infos and the GIN state that
// gininsert keeps in an IndexInfo) costs a good part of what writing its row
// does, and row mode would open one per row. So one sink is kept for the
// session: everything built from audit_logs stays in memory until a relcache
// invalidation of audit_logs or of one of its indexes, and only the relations
// themselves are opened around each row (lock and relcache reference, as a
// statement takes them).
//
// Between rows the kept sink holds no relation, lock, pin or resource owner
// entry: nothing that a transaction's end or an ERROR must release. What it
// keeps that points into the relcache (the Relation pointers, a GinState's
// index) stays valid because PostgreSQL rebuilds or frees a relcache entry only
// on an invalidation, which discards the sink; reopening also checks that each
// relation is still the entry the sink was built on.

namespace {

struct KeptSink {
  AuditSink sink;
  MemoryContext context;  // nullptr: no sink kept
  Oid audit_log;
  TupleDesc descriptor;  // audit_logs' descriptor when the sink was built
  Oid* indexes;          // the index oids, in the ResultRelInfo's order
  int index_count;
  bool built;                // false while building, or if an ERROR stopped it
  bool valid;                // cleared by an invalidation of audit_logs or an index
  bool in_use;               // its relations are open
  SubTransactionId used_in;  // the subtransaction that opened them
};
KeptSink kept{};
bool callbacks_registered = false;

void invalidate(Datum, Oid relation) {
  if (kept.context == nullptr) return;
  if (relation == InvalidOid || relation == kept.audit_log) kept.valid = false;
  for (int i = 0; i < kept.index_count; ++i) {
    if (kept.indexes[i] == relation) kept.valid = false;
  }
}

// An ERROR while the relations are open releases them with its resource owner.
void forget_use(XactEvent event, void*) {
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) kept.in_use = false;
}

void forget_use_in_subtransaction(SubXactEvent event, SubTransactionId subtransaction, SubTransactionId, void*) {
  if (event == SUBXACT_EVENT_ABORT_SUB && kept.in_use && kept.used_in == subtransaction) kept.in_use = false;
}

// Frees the kept sink. Its relations are closed (or released by an abort);
// nothing in its executor state needs more than its memory freed.
void discard() {
  MemoryContextDelete(kept.context);
  kept = KeptSink{};
}

// Builds the sink on rel (audit_logs, open, of the installed shape).
void build(Relation rel, const AuditLogShape& shape) {
  kept.context = AllocSetContextCreate(TopMemoryContext, "chronicle audit row sink", ALLOCSET_DEFAULT_SIZES);
  kept.audit_log = RelationGetRelid(rel);
  kept.valid = true;  // from here on an invalidation clears it
  MemoryContext old = MemoryContextSwitchTo(kept.context);
  build_lasting_sink(&kept.sink, rel, shape);
  kept.descriptor = RelationGetDescr(kept.sink.relation);
  const ResultRelInfo* result = kept.sink.result;
  kept.index_count = result->ri_NumIndices;
  kept.indexes = static_cast<Oid*>(palloc(sizeof(Oid) * (kept.index_count + 1)));
  for (int i = 0; i < kept.index_count; ++i) kept.indexes[i] = RelationGetRelid(result->ri_IndexRelationDescs[i]);
  MemoryContextSwitchTo(old);
  kept.built = true;
}

// The locks stay to the transaction's end, as an index scan keeps its index's:
// the next row takes them again from the backend's own lock table. (The
// executor releases an index's RowExclusiveLock after each statement; holding it
// longer blocks nothing that the table's lock does not.)
void close_indexes(const ResultRelInfo* result, int count) {
  for (int i = 0; i < count; ++i) index_close(result->ri_IndexRelationDescs[i], NoLock);
}

// Opens the kept sink's indexes again, audit_logs (rel) being open. False, with
// no index left open, when an invalidation came in (opening takes them in) or an
// entry is not the one the sink was built on.
bool reopen(Relation rel) {
  if (!kept.valid || rel != kept.sink.relation || RelationGetDescr(rel) != kept.descriptor) return false;
  const ResultRelInfo* result = kept.sink.result;
  for (int i = 0; i < kept.index_count; ++i) {
    Relation index = index_open(kept.indexes[i], RowExclusiveLock);
    if (!kept.valid || index != result->ri_IndexRelationDescs[i]) {
      index_close(index, NoLock);
      close_indexes(result, i);
      return false;
    }
  }
  return true;
}

}  // namespace

AuditSink* acquire_row_sink(const AuditConfig& config) {
  if (kept.in_use) return nullptr;
  if (!callbacks_registered) {
    CacheRegisterRelcacheCallback(invalidate, 0);
    RegisterXactCallback(forget_use, nullptr);
    RegisterSubXactCallback(forget_use_in_subtransaction, nullptr);
    callbacks_registered = true;
  }
  // The table named audit_logs now, and whether the fast path applies to it: the
  // kept sink is for the installed shape only (the general path builds a sink
  // per row: its routing and triggers hold relations only a statement may hold).
  AuditLogShape shape{};
  Relation rel = open_audit_log(config.audit_schema, &shape);
  if (!shape.installed) {
    table_close(rel, NoLock);  // the lock stays to the transaction's end, as a statement's
    return nullptr;
  }
  if (kept.context != nullptr && (!kept.built || !kept.valid || kept.audit_log != RelationGetRelid(rel))) discard();
  if (kept.context != nullptr && !reopen(rel)) discard();
  if (kept.context == nullptr) build(rel, shape);
  Assert(kept.sink.relation == rel && !kept.sink.general);
  kept.in_use = true;
  kept.used_in = GetCurrentSubTransactionId();
  AuditSink* sink = &kept.sink;
  sink->used = 0;  // a row an ERROR interrupted is gone with its transaction
  MemoryContextReset(sink->row_context);
  target_sink(sink, config, sink->row_context);
  return sink;
}

void release_row_sink(AuditSink* sink) {
  close_indexes(sink->result, kept.index_count);
  table_close(sink->relation, NoLock);
  kept.in_use = false;
  if (!kept.valid) discard();
}

}  // namespace chronicle::audit
