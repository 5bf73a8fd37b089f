// post_counts_after_insert() / post_counts_after_delete(): AFTER INSERT / AFTER
// DELETE FOR EACH STATEMENT triggers on posts, with the statement's transition
// table; post_counts_after_update(): AFTER UPDATE OF user_id, status FOR EACH
// ROW (in 1.0 and 1.1 WHEN either changed; from 1.2 the function skips the
// other rows itself: see after_update). They keep post_counts exact in the
// writing transaction without long-held row locks (see the 1.0 script): per
// (user_id, status), in key order, if the pair's advisory lock is free (never
// waiting) and the transaction runs under READ COMMITTED, add the signed change
// to the pair's row of post_count_totals and fold into it the deltas other
// writers left (fold_pair); otherwise append the change to post_count_deltas.
// Only the lock holder touches a pair's total or deletes its deltas, so writers
// that share no post never wait for each other here, and no fold leaves a delta
// row of its own behind. Under REPEATABLE READ or SERIALIZABLE a fold could fail
// on rows changed since the snapshot, so those writers only append.
//
// Application roles can make posts but cannot touch the counts: a fold writes
// through the table AM, which checks no privilege; a delta is appended through
// SPI as the tables' owner (OwnerScope). EXECUTE on these functions is revoked
// from PUBLIC (CREATE TRIGGER needs it), and a firing on any table but the
// extension's posts is refused.
//
// What a firing resolves by name (the schema, the columns, the fold's tables) is
// cached per relation version, as the audit trigger caches its configuration;
// the pairs stay datums from the row to the fold.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <utility>

#include "pg/boundary.h"
#include "pg/catalog.h"
#include "pg/direct_write.h"
#include "pg/spi.h"
#include "pg/trigger.h"
#include "posts/posts.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
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

// The fold's relations, looked up by name once and kept by OID for the schema
// they were found in, until a relcache invalidation of any of them (RENAME,
// DROP, SET SCHEMA and every ALTER send one) forgets them all. Each is looked
// up when first needed, as before they were cached; a missing one is never
// remembered (extension_relation raises 42P01).
enum FoldRelation { kDeltas, kDeltasKey, kTotals, kTotalsKey, kFoldRelationCount };
constexpr const char* kFoldRelationNames[kFoldRelationCount] = {"post_count_deltas", "post_count_deltas_key",
                                                                "post_count_totals", "post_count_totals_pkey"};
struct FoldRelations {
  Oid schema;
  Oid relations[kFoldRelationCount];  // InvalidOid: not looked up yet
};
FoldRelations fold_relations{InvalidOid, {}};
bool fold_callback_registered = false;

void invalidate_fold(Datum, Oid relation) {
  for (CountColumns* columns : {&totals_columns, &deltas_columns}) {
    if (relation == InvalidOid || relation == columns->relation) columns->valid = false;
  }
  for (const Oid cached : fold_relations.relations) {
    if (relation == InvalidOid || (OidIsValid(cached) && relation == cached)) {
      fold_relations = FoldRelations{InvalidOid, {}};
      return;
    }
  }
}

void register_fold_callback() {
  if (fold_callback_registered) return;
  CacheRegisterRelcacheCallback(invalidate_fold, 0);
  fold_callback_registered = true;
}

Oid fold_relation(Oid schema, FoldRelation which) {
  register_fold_callback();
  if (fold_relations.schema != schema) fold_relations = FoldRelations{schema, {}};
  Oid& cached = fold_relations.relations[which];
  if (!OidIsValid(cached)) cached = pg::extension_relation(schema, kFoldRelationNames[which]);
  return cached;
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
  register_fold_callback();
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
// status UPDATE (only its first row of each pair folds: first_fold_in_transaction);
// the next writer of the pair would otherwise delete them all, each a heap
// delete and its WAL, inside its own single-row write. The rest stays for later
// writers; readers add the deltas not folded yet, so counts stay exact either way.
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
  Relation deltas = table_open(fold_relation(schema, kDeltas), RowExclusiveLock);
  const AttrNumber delta_column = columns_of(deltas, deltas_columns, "delta").count;
  // Deltas are rare (a writer that found the pair busy, or one under REPEATABLE
  // READ): mostly the table has no page at all, and no scan can find a row.
  // A delta committed before this fold's snapshot lies in a page that exists.
  if (RelationGetNumberOfBlocks(deltas) == 0) {
    table_close(deltas, NoLock);
    return 0;
  }
  Relation index = index_open(fold_relation(schema, kDeltasKey), RowExclusiveLock);
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

// Holding the pair's advisory lock, under READ COMMITTED: deletes the pair's
// committed rows of post_count_deltas (at most kMaxFoldedDeltas: a writer does
// not pay for another transaction's bulk change at once), adds their sum and
// `change` to the pair's row of post_count_totals (inserted if missing, deleted
// when it reaches zero) and returns the new total. The rows are read with a
// fresh snapshot: every earlier holder of the lock has committed or aborted by
// then. Writes through the table AM and the index path, as logical
// replication's apply does, so no privilege on the tables is needed (the
// triggers fire on the extension's posts only); one SPI statement per write
// would cost an executor start each. Refuses with 42703 / 42804 when a column
// it reads or writes is missing or no longer of the type the extension made it.
// Plain C-style code that may raise an ERROR (boundary rule 3): call it inside
// pg_call, with no C++ object of its own alive.
int64 fold_pair(Oid schema, Datum user_id, Datum status, int64 change) {
  EState* estate = CreateExecutorState();
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  estate->es_snapshot = snapshot;
  estate->es_output_cid = GetCurrentCommandId(true);
  MemoryContext old_context = MemoryContextSwitchTo(estate->es_query_cxt);

  const int64 folded = take_deltas(schema, estate, user_id, status);

  Relation totals = table_open(fold_relation(schema, kTotals), RowExclusiveLock);
  Relation key = index_open(fold_relation(schema, kTotalsKey), RowExclusiveLock);
  TupleDesc desc = RelationGetDescr(totals);
  const CountColumns& columns = columns_of(totals, totals_columns, "post_count");
  const AttrNumber user_column = columns.user_id;
  const AttrNumber status_column = columns.status;
  const AttrNumber count_column = columns.count;
  // An index insert after a non-HOT update of the total reads there which
  // columns changed.
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
constexpr pg::TriggerShape kInsertShape{"post_counts_after_insert", pg::Timing::After, pg::Level::Statement,
                                        pg::kInsert, "AFTER INSERT FOR EACH STATEMENT on posts"};
constexpr pg::TriggerShape kDeleteShape{"post_counts_after_delete", pg::Timing::After, pg::Level::Statement,
                                        pg::kDelete, "AFTER DELETE FOR EACH STATEMENT on posts"};
constexpr pg::TriggerShape kUpdateShape{"post_counts_after_update", pg::Timing::After, pg::Level::Row, pg::kUpdate,
                                        "AFTER UPDATE FOR EACH ROW on posts"};

// What a trigger resolves once per relation version of its table: the
// extension's schema (the trigger function's), whether the table is the
// extension's posts, and the columns it counts by (InvalidAttrNumber when
// missing: reported where they are needed, with find_column's error).
struct PostCountsTrigger {
  Oid schema;
  bool on_posts;
  AttrNumber user_id;
  AttrNumber status;
};

pg::TriggerCache<PostCountsTrigger> cache("chronicle post_counts triggers");

const PostCountsTrigger& resolve(FunctionCallInfo fcinfo, TriggerData* trigger, const char* function) {
  const Oid function_oid = fcinfo->flinfo->fn_oid;
  const auto& resolved = cache.get(trigger, [function_oid](TriggerData* t, MemoryContext context) {
    auto* payload = static_cast<PostCountsTrigger*>(
        pg::pg_call([&] { return MemoryContextAllocZero(context, sizeof(PostCountsTrigger)); }));
    Relation rel = t->tg_relation;
    payload->schema = pg::pg_call([&] { return pg::extension_schema(function_oid); });
    payload->on_posts = RelationGetNamespace(rel) == payload->schema &&
                        std::strcmp(RelationGetRelationName(rel), "posts") == 0;
    payload->user_id = pg::live_column(RelationGetDescr(rel), "user_id");
    payload->status = pg::live_column(RelationGetDescr(rel), "status");
    return payload;
  });
  if (!resolved.on_posts) {
    throw Error(sqlstate::kTriggerProtocolViolated, fmt::format("{}() maintains post_counts for posts only", function))
        .detail(fmt::format("It was fired by {}.", pg::describe_trigger(trigger)));
  }
  return resolved;
}

// A counted column: cached, or find_column's 42703 naming table, column and trigger.
AttrNumber counted_column(const TriggerData* trigger, AttrNumber cached, const char* name) {
  return cached != InvalidAttrNumber ? cached : pg::find_column(trigger, name);
}

// One (user_id, status) pair and its change. user_id points at a uuid, status
// at its text (short or 4-byte header, never TOASTed), as the row holds them or
// copied from it.
struct PairChange {
  Datum user_id;
  Datum status;
  int64 change;
};

// The order of std::map over (uuid bytes, status bytes): the pairs are locked
// and folded in it.
int compare_pairs(const void* a, const void* b) {
  const auto* x = static_cast<const PairChange*>(a);
  const auto* y = static_cast<const PairChange*>(b);
  const int by_user = std::memcmp(DatumGetUUIDP(x->user_id)->data, DatumGetUUIDP(y->user_id)->data, UUID_LEN);
  if (by_user != 0) return by_user;
  const auto* x_status = reinterpret_cast<const text*>(DatumGetPointer(x->status));
  const auto* y_status = reinterpret_cast<const text*>(DatumGetPointer(y->status));
  const size_t x_length = VARSIZE_ANY_EXHDR(x_status);
  const size_t y_length = VARSIZE_ANY_EXHDR(y_status);
  const int by_status = std::memcmp(VARDATA_ANY(x_status), VARDATA_ANY(y_status), std::min(x_length, y_length));
  if (by_status != 0) return by_status;
  return x_length < y_length ? -1 : x_length > y_length ? 1 : 0;
}

// The advisory lock of one (user_id, status): class kLockClass, the pair's hash.
constexpr int32 kLockClass = 0x63706374;  // "cpct"

uint32 pair_hash(const PairChange& pair) {
  uint32 hash = 2166136261u;  // FNV-1a over the uuid and the status
  const auto mix = [&hash](unsigned char byte) { hash = (hash ^ byte) * 16777619u; };
  for (unsigned char byte : DatumGetUUIDP(pair.user_id)->data) mix(byte);
  const auto* status = reinterpret_cast<const text*>(DatumGetPointer(pair.status));
  const char* bytes = VARDATA_ANY(status);
  for (size_t i = 0; i < VARSIZE_ANY_EXHDR(status); ++i) mix(static_cast<unsigned char>(bytes[i]));
  return hash;
}

// True the first time this transaction asks for a pair (by hash; a collision
// only skips a fold). A fold deletes the pair's delta rows and updates its
// total, and row versions a running transaction made itself cannot be pruned: a
// second fold of the same pair would walk all of them again, so a long
// transaction would cost quadratic time. Later changes of the pair are appended
// as deltas for the next transaction's fold instead (reads add them up
// meanwhile). The set lives in TopTransactionContext and is made anew for each
// transaction.
bool first_fold_in_transaction(uint32 hash) {
  static HTAB* folded = nullptr;
  static LocalTransactionId folded_in = InvalidLocalTransactionId;
  return pg::pg_call([&] {
    if (folded == nullptr || folded_in != MyProc->lxid) {
      HASHCTL control{};
      control.keysize = sizeof(uint32);
      control.entrysize = sizeof(uint32);
      control.hcxt = TopTransactionContext;
      folded = hash_create("chronicle folded post_counts pairs", 16, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
      folded_in = MyProc->lxid;
    }
    bool found = false;
    hash_search(folded, &hash, HASH_ENTER, &found);
    return !found;
  });
}

bool try_pair_lock(uint32 hash) {
  return DatumGetBool(pg::pg_call([&] {
    return DirectFunctionCall2(pg_try_advisory_xact_lock_int4, Int32GetDatum(kLockClass),
                               Int32GetDatum(static_cast<int32>(hash)));
  }));
}

// Applies `count` changes, in compare_pairs order, each to one pair.
void apply_changes(const PairChange* changes, int count, Oid schema) {
  // SPI only for the rarer path (a delta appended); folds are native.
  std::optional<pg::SpiSession> spi;
  std::optional<OwnerScope> owner;
  const bool may_fold = !IsolationUsesXactSnapshot();
  for (int i = 0; i < count; ++i) {
    const PairChange& pair = changes[i];
    if (pair.change == 0) continue;
    const uint32 hash = pair_hash(pair);
    if (may_fold && first_fold_in_transaction(hash) && try_pair_lock(hash)) {
      pg::pg_call([&] { fold_pair(schema, pair.user_id, pair.status, pair.change); });
      continue;
    }
    if (!spi) {
      spi.emplace();
      owner.emplace(schema, "post_count_deltas");
    }
    Datum values[3] = {pair.user_id, pair.status, Int64GetDatum(pair.change)};
    spi->execute(plan_for(Query::DeltaInsert, schema), values, nullptr, false);
  }
}

// The rows of a transition table grouped by (user_id, status), each counted as
// `sign`, sorted by compare_pairs; palloc'd in the current memory context.
int count_rows(Tuplestorestate* rows, TupleDesc desc, AttrNumber user_attnum, AttrNumber status_attnum, int64 sign,
               PairChange** changes) {
  int count = 0;
  pg::pg_call([&] {
    // No C++ object is alive in this lambda: a longjmp out of it skips nothing.
    int capacity = 8;
    auto* pairs = static_cast<PairChange*>(palloc(sizeof(PairChange) * capacity));
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    const int reader = tuplestore_alloc_read_pointer(rows, 0);
    tuplestore_select_read_pointer(rows, reader);
    tuplestore_rescan(rows);
    while (tuplestore_gettupleslot(rows, true, false, slot)) {
      bool user_null = false;
      bool status_null = false;
      const Datum user = slot_getattr(slot, user_attnum, &user_null);
      const Datum status = slot_getattr(slot, status_attnum, &status_null);
      if (user_null || status_null) continue;  // NOT NULL columns: cannot happen
      if (count == capacity) {
        capacity *= 2;
        pairs = static_cast<PairChange*>(repalloc(pairs, sizeof(PairChange) * capacity));
      }
      // Copies: the slot's next row replaces these values.
      pairs[count++] = PairChange{datumCopy(user, false, UUID_LEN),
                                  datumCopy(PointerGetDatum(DatumGetTextPP(status)), false, -1), sign};
    }
    tuplestore_select_read_pointer(rows, 0);
    ExecDropSingleTupleTableSlot(slot);
    qsort(pairs, count, sizeof(PairChange), compare_pairs);
    int merged = 0;
    for (int i = 0; i < count; ++i) {
      if (merged > 0 && compare_pairs(&pairs[merged - 1], &pairs[i]) == 0) {
        pairs[merged - 1].change += pairs[i].change;
      } else {
        pairs[merged++] = pairs[i];
      }
    }
    count = merged;
    *changes = pairs;
  });
  return count;
}

Datum after_write(FunctionCallInfo fcinfo, const pg::TriggerShape& shape, bool inserted) {
  TriggerData* trigger = pg::require_trigger(fcinfo, shape);
  const PostCountsTrigger& resolved = resolve(fcinfo, trigger, shape.function);
  Tuplestorestate* rows = inserted ? trigger->tg_newtable : trigger->tg_oldtable;
  if (rows == nullptr) {
    throw Error(sqlstate::kTriggerProtocolViolated,
                fmt::format("{}() needs the statement's transition table", shape.function))
        .hint(inserted ? "Create the trigger with REFERENCING NEW TABLE AS new_rows."
                       : "Create the trigger with REFERENCING OLD TABLE AS old_rows.");
  }
  const AttrNumber user_attnum = counted_column(trigger, resolved.user_id, "user_id");
  const AttrNumber status_attnum = counted_column(trigger, resolved.status, "status");
  PairChange* changes = nullptr;
  const int count = count_rows(rows, RelationGetDescr(trigger->tg_relation), user_attnum, status_attnum,
                               inserted ? 1 : -1, &changes);
  apply_changes(changes, count, resolved.schema);
  return PointerGetDatum(nullptr);
}

// The pair of a row of the UPDATE, pointing into the row (which outlives the firing).
PairChange pair_of_row(TriggerData* trigger, HeapTuple row, AttrNumber user_attnum, AttrNumber status_attnum,
                       int64 change) {
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  bool user_null = false;
  bool status_null = false;
  const Datum user = heap_getattr(row, user_attnum, desc, &user_null);
  const Datum status = heap_getattr(row, status_attnum, desc, &status_null);
  if (user_null || status_null) throw Error(sqlstate::kInternalError, "posts.user_id and posts.status are NOT NULL");
  return PairChange{user, PointerGetDatum(pg::pg_call([&] { return DatumGetTextPP(status); })), change};
}

Datum after_update(FunctionCallInfo fcinfo) {
  TriggerData* trigger = pg::require_trigger(fcinfo, kUpdateShape);
  const PostCountsTrigger& resolved = resolve(fcinfo, trigger, kUpdateShape.function);
  const AttrNumber user_attnum = counted_column(trigger, resolved.user_id, "user_id");
  const AttrNumber status_attnum = counted_column(trigger, resolved.status, "status");
  PairChange changes[2] = {pair_of_row(trigger, trigger->tg_trigtuple, user_attnum, status_attnum, -1),
                           pair_of_row(trigger, trigger->tg_newtuple, user_attnum, status_attnum, 1)};
  // An UPDATE that sets user_id or status to the value it had. 1.0 and 1.1 leave
  // such rows out with the trigger's WHEN clause; 1.2 drops the clause, which
  // PostgreSQL would parse and compile again in every statement, and leaves
  // them to this test.
  const int order = compare_pairs(&changes[0], &changes[1]);
  if (order == 0) return PointerGetDatum(nullptr);
  if (order > 0) std::swap(changes[0], changes[1]);
  apply_changes(changes, 2, resolved.schema);
  return PointerGetDatum(nullptr);
}

}  // namespace
}  // namespace chronicle::posts

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_post_counts_after_update) { return posts::after_update(fcinfo); }

CHRONICLE_FUNCTION(chronicle_post_counts_after_insert) { return posts::after_write(fcinfo, posts::kInsertShape, true); }

CHRONICLE_FUNCTION(chronicle_post_counts_after_delete) {
  return posts::after_write(fcinfo, posts::kDeleteShape, false);
}
