#include "audit/writer.h"

#include "audit/image_compression.h"

#include "pg/columns.h"
#include "pg/direct_write.h"

#include "timestamps/current_timestamp.h"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "optimizer/optimizer.h"
#include "utils/inval.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace chronicle::audit {
namespace {

constexpr const char* kColumnNames[kAuditColumnCount] = {
    "id",       "table_name", "operation",  "record_id",  "user_id",   "old_data",
    "new_data", "changed_fields", "ip_address", "user_agent", "created_at",
};

void map_columns(AuditSink* sink) {
  TupleDesc desc = RelationGetDescr(sink->relation);
  for (int c = 0; c < kAuditColumnCount; ++c) {
    sink->attno[c] = pg::live_column(desc, kColumnNames[c]) - 1;  // an index into the slot's arrays
    if (sink->attno[c] < 0) {
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("column \"%s\" of relation \"%s\" does not exist", kColumnNames[c],
                             RelationGetRelationName(sink->relation)),
                      errdetail("The audit trigger writes every column of the audit log.")));
    }
  }
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
    MemoryContext context = AllocSetContextCreate(CacheMemoryContext, "chronicle audit_logs checks", ALLOCSET_SMALL_SIZES);
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
  Relation rel = sink->relation;
  EState* estate = sink->estate;
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

Relation open_audit_log(Oid audit_log) {
  Relation rel = table_open(audit_log, RowExclusiveLock);
  if (rel->rd_rel->relkind != RELKIND_RELATION) {
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
  }
  return rel;
}

// What a sink needs of audit_logs itself, built in the current memory context
// (the executor state's, below it). A sink that outlives its statement forms
// its rows with a copy of the descriptor: a slot pins a relation's own
// descriptor in the current resource owner, and a kept slot outlives that owner.
void build_sink(AuditSink* sink, int capacity, bool outlives_statement) {
  Relation rel = sink->relation;
  map_columns(sink);
  sink->estate = CreateExecutorState();
  EState* estate = sink->estate;
  sink->result = pg::open_result_relation(estate, rel, nullptr);  // the audit log is only inserted into
  prepare_checks(sink, outlives_statement);
  MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
  sink->capacity = capacity;
  sink->slots = static_cast<TupleTableSlot**>(palloc0(sizeof(TupleTableSlot*) * capacity));
  sink->slot_descriptor = outlives_statement ? CreateTupleDescCopy(RelationGetDescr(rel)) : RelationGetDescr(rel);
  // Slots are made as rows arrive: a one-row statement must not pay for a batch.
  sink->row_context = AllocSetContextCreate(estate->es_query_cxt, "chronicle audit rows", ALLOCSET_DEFAULT_SIZES);
  MemoryContextSwitchTo(old);
  sink->image_compression[0] = image_compression(rel, sink->attno[kOldData]);
  sink->image_compression[1] = image_compression(rel, sink->attno[kNewData]);
}

}  // namespace

void target_sink(AuditSink* sink, const AuditConfig& config, MemoryContext context) {
  MemoryContext old = MemoryContextSwitchTo(context);
  sink->table_name = coerce_table_name(sink, config.table_name);
  sink->created_at = timestamps::current_timestamp_as(
      TupleDescAttr(RelationGetDescr(sink->relation), sink->attno[kCreatedAt])->atttypid);
  MemoryContextSwitchTo(old);
  sink->sequence = config.audit_log_sequence;
  sink->command = GetCurrentCommandId(true);
  sink->estate->es_output_cid = sink->command;
}

void open_sink(AuditSink* sink, const AuditConfig& config, int capacity) {
  *sink = AuditSink{};
  sink->relation = open_audit_log(config.audit_log);
  build_sink(sink, capacity, false);
  ++open_sinks;
  target_sink(sink, config, sink->estate->es_query_cxt);
}

void build_lasting_sink(AuditSink* sink, const AuditConfig& config) {
  *sink = AuditSink{};
  sink->relation = open_audit_log(config.audit_log);
  build_sink(sink, 1, true);
}

void add_audit_row(AuditSink* sink, const AuditRow& row) {
  if (sink->slots[sink->used] == nullptr) {
    // In the executor state's context: the caller's (the row context) is reset by every write.
    MemoryContext old = MemoryContextSwitchTo(sink->estate->es_query_cxt);
    sink->slots[sink->used] =
        ExecAllocTableSlot(&sink->estate->es_tupleTable, sink->slot_descriptor, &TTSOpsVirtual);
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
  ExecStoreVirtualTuple(slot);
  if (++sink->used == sink->capacity) flush_sink(sink);
}

void flush_sink(AuditSink* sink) {
  if (sink->used > 0) write_batch(sink);
  MemoryContextReset(sink->row_context);
}

void close_sink(AuditSink* sink) {
  flush_sink(sink);
  ExecCloseIndices(sink->result);
  ExecResetTupleTable(sink->estate->es_tupleTable, false);
  FreeExecutorState(sink->estate);
  table_close(sink->relation, NoLock);
  --open_sinks;
  *sink = AuditSink{};
}

}  // namespace chronicle::audit
