// Opening a sink costs about half as much as writing its row: for one audited
// row, callgrind counts some 36,000 instructions to build the executor state,
// the ResultRelInfo, the index infos and the GIN state that gininsert keeps in
// an IndexInfo, against some 75,000 for the heap and index inserts. Row mode
// opened one per row. So one sink is kept for the session: everything built
// from audit_logs stays in memory until a relcache invalidation of audit_logs
// or of one of its indexes, and only the relations themselves are opened
// around each row (lock and relcache reference, as a statement takes them).
//
// Between rows the kept sink holds no relation, lock, pin or resource owner
// entry: nothing that a transaction's end or an ERROR must release. What it
// keeps that points into the relcache (the Relation pointers, a GinState's
// index) stays valid because PostgreSQL rebuilds or frees a relcache entry only
// on an invalidation, which discards the sink; reopening also checks that each
// relation is still the entry the sink was built on.
#include "audit/row_sink.h"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace chronicle::audit {
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
