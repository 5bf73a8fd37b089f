// The native steps of the audit log's lifecycle (lifecycle.h). Plain C-style
// code that may raise an ERROR: callers go through pg_call (boundary rule 2).
#include "audit/lifecycle.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type_d.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace chronicle::audit {
namespace {

enum class Wait { kLock, kLockers };

// Runs one bounded wait in a subtransaction, as PL/pgSQL's exception block
// does (pl_exec.c): lock_timeout is set for the wait only (a GUC nest level
// restores it), and a 55P03 rolls the subtransaction back, which releases
// whatever the wait queued.
bool bounded_wait(Wait what, Oid relation, LOCKMODE mode, int timeout_ms) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  volatile bool done = false;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(context);
  PG_TRY();
  {
    const int nest_level = NewGUCNestLevel();
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%dms", timeout_ms);
    (void)set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    if (what == Wait::kLock) {
      LockRelationOid(relation, mode);
    } else {
      LOCKTAG tag;
      SET_LOCKTAG_RELATION(tag, MyDatabaseId, relation);
      WaitForLockers(tag, mode, false);
    }
    AtEOXact_GUC(true, nest_level);
    ReleaseCurrentSubTransaction();  // a lock taken in it passes to the transaction
    done = true;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    if (error->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE) ReThrowError(error);
    FreeErrorData(error);
  }
  PG_END_TRY();
  MemoryContextSwitchTo(context);
  CurrentResourceOwner = owner;
  return done;
}

[[noreturn]] void report_unusable_key(Relation rel, const char* why) {
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("cannot partition \"%s\": %s", RelationGetRelationName(rel), why),
                  errhint("audit_logs is partitioned by ranges of its primary key, id (bigint, NOT NULL).")));
}

}  // namespace

bool try_lock_relation(Oid relation, LOCKMODE mode, int timeout_ms) {
  return bounded_wait(Wait::kLock, relation, mode, timeout_ms);
}

bool try_wait_for_lockers(Oid relation, LOCKMODE mode, int timeout_ms) {
  return bounded_wait(Wait::kLockers, relation, mode, timeout_ms);
}

int64 max_primary_key(Oid relation, bool* found) {
  Relation heap = table_open(relation, NoLock);  // the caller holds its lock
  const Oid key = RelationGetPrimaryKeyIndex(heap);
  if (!OidIsValid(key)) report_unusable_key(heap, "it has no primary key");
  Relation index = index_open(key, AccessShareLock);
  Form_pg_index form = index->rd_index;
  // Every row has an entry: a valid, ready, unique btree on the column itself,
  // with no predicate, over a NOT NULL bigint.
  if (index->rd_rel->relam != BTREE_AM_OID || !form->indisvalid || !form->indisready || !form->indisunique ||
      form->indnkeyatts != 1 || form->indkey.values[0] <= 0 ||
      !heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) ||
      !heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr)) {
    report_unusable_key(heap, "its primary key is not a plain btree on one column");
  }
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(heap), form->indkey.values[0] - 1);
  if (strcmp(NameStr(attr->attname), "id") != 0 || attr->atttypid != INT8OID || !attr->attnotnull) {
    report_unusable_key(heap, "its primary key is not the bigint column id");
  }
  IndexScanDesc scan = index_beginscan(heap, index, SnapshotAny, 0, 0);
  scan->xs_want_itup = true;
  index_rescan(scan, nullptr, 0, nullptr, 0);
  int64 highest = 0;
  *found = false;
  if (index_getnext_tid(scan, BackwardScanDirection) != nullptr) {
    bool is_null = true;
    const Datum value = index_getattr(scan->xs_itup, 1, scan->xs_itupdesc, &is_null);
    Assert(!is_null);
    highest = DatumGetInt64(value);
    *found = true;
  }
  index_endscan(scan);
  index_close(index, AccessShareLock);
  table_close(heap, NoLock);
  return highest;
}

void mark_check_validated(Oid relation, const char* name) {
  Relation constraints = table_open(ConstraintRelationId, RowExclusiveLock);
  const Oid constraint = get_relation_constraint_oid(relation, name, false);
  HeapTuple tuple = SearchSysCacheCopy1(CONSTROID, ObjectIdGetDatum(constraint));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for constraint %u", constraint);
  auto* form = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
  if (form->contype != CONSTRAINT_CHECK) elog(ERROR, "constraint \"%s\" is not a CHECK constraint", name);
  form->convalidated = true;
  CatalogTupleUpdate(constraints, &tuple->t_self, tuple);
  heap_freetuple(tuple);
  table_close(constraints, RowExclusiveLock);
  // The relcache holds each CHECK's validity (ATTACH PARTITION reads it there).
  CacheInvalidateRelcacheByRelid(relation);
  CommandCounterIncrement();
}

void add_extension_table(Oid extension, Oid relation) {
  ObjectAddress member;
  ObjectAddressSet(member, RelationRelationId, relation);
  ObjectAddress owner;
  ObjectAddressSet(owner, ExtensionRelationId, extension);
  recordDependencyOn(&member, &owner, DEPENDENCY_EXTENSION);
  recordExtObjInitPriv(relation, RelationRelationId);  // its grants, as the extension made them
  CommandCounterIncrement();
  // pg_extension_config_dump checks that it runs inside the extension's
  // script and that the table is its member; both hold for the call.
  const bool was_creating = creating_extension;
  const Oid was_current = CurrentExtensionObject;
  creating_extension = true;
  CurrentExtensionObject = extension;
  PG_TRY();
  { DirectFunctionCall2(pg_extension_config_dump, ObjectIdGetDatum(relation), CStringGetTextDatum("")); }
  PG_FINALLY();
  {
    creating_extension = was_creating;
    CurrentExtensionObject = was_current;
  }
  PG_END_TRY();
  CommandCounterIncrement();
}

}  // namespace chronicle::audit
