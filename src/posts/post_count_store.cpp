#include "posts/post_count_store.h"

#include "pg/catalog.h"
#include "pg/direct_write.h"
#include "posts/extension_relation.h"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/executor.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace chronicle::posts {
namespace {

// The columns a fold reads and writes, by attribute number, with their types
// checked: found by name in the relcache's descriptor, and kept (with the
// check's verdict) per relation version, since a relcache invalidation of the
// table (ALTER TABLE, a rewrite) drops them. Both tables are the extension's,
// but a DBA can still ALTER them; a fold then refuses clearly instead of
// reading a numeric as an int8 or comparing an integer status as text.
struct CountColumns {
  Oid relation;
  bool valid;
  AttrNumber user_id;
  AttrNumber status;
  AttrNumber count;  // post_count_totals.post_count or post_count_deltas.delta
};
CountColumns totals_columns{InvalidOid, false, 0, 0, 0};
CountColumns deltas_columns{InvalidOid, false, 0, 0, 0};
bool columns_callback_registered = false;

void invalidate_columns(Datum, Oid relation) {
  for (CountColumns* columns : {&totals_columns, &deltas_columns}) {
    if (relation == InvalidOid || relation == columns->relation) columns->valid = false;
  }
}

// The attribute number of `name`, which must be of `type` (or `other_type`):
// 42703 when it is missing, 42804 when it has another type.
AttrNumber typed_column(Relation rel, const char* name, Oid type, Oid other_type) {
  TupleDesc desc = RelationGetDescr(rel);
  const AttrNumber attnum = pg::live_column(desc, name);
  if (attnum == InvalidAttrNumber) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("column \"%s\" of relation \"%s\" does not exist", name, RelationGetRelationName(rel)),
                    errhint("The extension's objects are incomplete: reinstall or update the extension.")));
  }
  const Oid actual = TupleDescAttr(desc, attnum - 1)->atttypid;
  if (actual != type && actual != other_type) {
    ereport(
        ERROR,
        (errcode(ERRCODE_DATATYPE_MISMATCH),
         errmsg("column \"%s\" of relation \"%s\" is of type %s, but post_counts needs %s", name,
                RelationGetRelationName(rel), format_type_be(actual), format_type_be(type)),
         errdetail("The triggers that keep post_counts exact read and write this column as %s.", format_type_be(type)),
         errhint("ALTER TABLE %s ALTER COLUMN %s TYPE %s.", RelationGetRelationName(rel), name, format_type_be(type)),
         errtablecol(rel, attnum)));
  }
  return attnum;
}

const CountColumns& columns_of(Relation rel, CountColumns& columns, const char* count_name) {
  if (columns.valid && columns.relation == RelationGetRelid(rel)) return columns;
  if (!columns_callback_registered) {
    CacheRegisterRelcacheCallback(invalidate_columns, 0);
    columns_callback_registered = true;
  }
  columns.valid = false;
  columns.user_id = typed_column(rel, "user_id", UUIDOID, UUIDOID);
  // The index scans compare status with texteq: varchar or text.
  columns.status = typed_column(rel, "status", VARCHAROID, TEXTOID);
  columns.count = typed_column(rel, count_name, INT8OID, INT8OID);
  columns.relation = RelationGetRelid(rel);
  columns.valid = true;
  return columns;
}

// At most this many delta rows are folded by one fold. Deltas pile up when one
// transaction changes many posts of the same (user_id, status), such as a bulk
// status UPDATE (only its first row of each pair folds, see post_counts_triggers.cpp);
// the next writer of the pair would otherwise delete them all inside its own
// single-row write. The rest stays for later writers; readers add the deltas
// not folded yet, so counts stay exact either way. Each delta folded costs a
// heap delete and its WAL, a few microseconds.
constexpr int kMaxFoldedDeltas = 128;

// An MVCC scan of `index` (user_id, status) for one pair; the caller ends it.
IndexScanDesc scan_pair(Relation rel, Relation index, Snapshot snapshot, Datum user_id, Datum status) {
  ScanKeyData keys[2];
  // The operators' own functions, with the index columns' collations (texteq needs one).
  ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[0], F_UUID_EQ,
                         user_id);
  ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[1], F_TEXTEQ,
                         status);
  IndexScanDesc scan = index_beginscan(rel, index, snapshot, 2, 0);
  index_rescan(scan, keys, 2, nullptr, 0);
  return scan;
}

// Deletes at most kMaxFoldedDeltas of the pair's deltas visible to the snapshot
// and returns their sum.
int64 take_deltas(Oid schema, EState* estate, Datum user_id, Datum status) {
  Relation deltas = table_open(extension_relation(schema, "post_count_deltas"), RowExclusiveLock);
  const AttrNumber delta_column = columns_of(deltas, deltas_columns, "delta").count;
  // Deltas are rare (a writer that found the pair busy, or one under REPEATABLE
  // READ): mostly the table has no page at all, and no scan can find a row.
  // A delta committed before this fold's snapshot lies in a page that exists.
  if (RelationGetNumberOfBlocks(deltas) == 0) {
    table_close(deltas, NoLock);
    return 0;
  }
  Relation index = index_open(extension_relation(schema, "post_count_deltas_key"), RowExclusiveLock);
  TupleTableSlot* slot = table_slot_create(deltas, &estate->es_tupleTable);
  IndexScanDesc scan = scan_pair(deltas, index, estate->es_snapshot, user_id, status);
  int64 sum = 0;
  int folded = 0;
  while (folded < kMaxFoldedDeltas && index_getnext_slot(scan, ForwardScanDirection, slot)) {
    ++folded;
    bool is_null = false;
    const Datum delta = slot_getattr(slot, delta_column, &is_null);
    if (!is_null) sum += DatumGetInt64(delta);
    // Only the holder of the pair's lock deletes its deltas: no concurrent delete.
    simple_table_tuple_delete(deltas, &slot->tts_tid, estate->es_snapshot);
  }
  index_endscan(scan);
  index_close(index, NoLock);
  table_close(deltas, NoLock);
  return sum;
}

}  // namespace

int64 fold_pair(Oid schema, Datum user_id, Datum status, int64 change) {
  EState* estate = CreateExecutorState();
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  estate->es_snapshot = snapshot;
  estate->es_output_cid = GetCurrentCommandId(true);
  MemoryContext old_context = MemoryContextSwitchTo(estate->es_query_cxt);

  const int64 folded = take_deltas(schema, estate, user_id, status);

  Relation totals = table_open(extension_relation(schema, "post_count_totals"), RowExclusiveLock);
  Relation key = index_open(extension_relation(schema, "post_count_totals_pkey"), RowExclusiveLock);
  TupleDesc desc = RelationGetDescr(totals);
  const CountColumns& columns = columns_of(totals, totals_columns, "post_count");
  const AttrNumber user_column = columns.user_id;
  const AttrNumber status_column = columns.status;
  const AttrNumber count_column = columns.count;
  // An index insert after a non-HOT update of the total reads there which
  // columns changed (without it the backend crashed: regress posts_counts).
  ResultRelInfo* result = pg::open_result_relation(
      estate, totals, bms_make_singleton(count_column - FirstLowInvalidHeapAttributeNumber));

  TupleTableSlot* found = table_slot_create(totals, &estate->es_tupleTable);
  IndexScanDesc scan = scan_pair(totals, key, snapshot, user_id, status);
  const bool exists = index_getnext_slot(scan, ForwardScanDirection, found);
  index_endscan(scan);
  index_close(key, NoLock);

  int64 total = folded + change;
  if (exists) {
    bool is_null = false;
    const Datum current = slot_getattr(found, count_column, &is_null);
    if (!is_null) total += DatumGetInt64(current);
  }
  if (exists && total == 0) {
    // A user deleted with all of their posts leaves no zero row behind.
    simple_table_tuple_delete(totals, &found->tts_tid, snapshot);
  } else if (total != 0) {
    TupleTableSlot* row = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
    ExecClearTuple(row);
    for (int i = 0; i < desc->natts; ++i) row->tts_isnull[i] = true;
    if (exists) {
      slot_getallattrs(found);
      for (int i = 0; i < desc->natts; ++i) {
        row->tts_values[i] = found->tts_values[i];
        row->tts_isnull[i] = found->tts_isnull[i];
      }
    } else {
      row->tts_values[user_column - 1] = user_id;
      row->tts_isnull[user_column - 1] = false;
      row->tts_values[status_column - 1] = status;
      row->tts_isnull[status_column - 1] = false;
    }
    row->tts_values[count_column - 1] = Int64GetDatum(total);
    row->tts_isnull[count_column - 1] = false;
    ExecStoreVirtualTuple(row);
    if (exists) {
      bool update_indexes = false;
      simple_table_tuple_update(totals, &found->tts_tid, row, snapshot, &update_indexes);
      if (update_indexes) ExecInsertIndexTuples(result, row, estate, true, false, nullptr, NIL);
    } else {
      table_tuple_insert(totals, row, estate->es_output_cid, 0, nullptr);
      ExecInsertIndexTuples(result, row, estate, false, false, nullptr, NIL);
    }
  }

  ExecCloseIndices(result);
  table_close(totals, NoLock);
  MemoryContextSwitchTo(old_context);
  ExecResetTupleTable(estate->es_tupleTable, false);
  FreeExecutorState(estate);
  UnregisterSnapshot(snapshot);
  // As an SPI statement would: later reads of this command see the new total.
  CommandCounterIncrement();
  return total;
}

}  // namespace chronicle::posts
