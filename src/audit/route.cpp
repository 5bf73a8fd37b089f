#include "audit/audit.h"

extern "C" {
#include "access/attmap.h"
#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
}

namespace chronicle::audit {
namespace {

// Leaves kept per sink: writers fill one partition at a time, two around a bound.
constexpr int kKeptLeaves = 4;

struct Leaf {
  Oid oid;                // InvalidOid: unused
  uint64 generation;      // `invalidations` when built
  MemoryContext context;  // everything below
  Relation relation;      // the relcache entry it was built on
  ResultRelInfo* result;  // its indexes are closed between writes
  Oid* indexes;
  AttrMap* map;          // parent -> leaf columns; nullptr when they are the same
  TupleTableSlot* slot;  // the row in the leaf's columns, when mapped
};

// Any relcache invalidation may change a leaf or its indexes: what was built
// is reused only while none has come in since (they are rare next to rows).
uint64 invalidations = 0;
bool callback_registered = false;
void count_invalidation(Datum, Oid) { ++invalidations; }

// CHECK constraints of the leaf, planned in its context, as ExecRelCheck
// would build them (in its order) in the executor state's: a rebuilt leaf
// frees them with its context.
void prepare_leaf_checks(ResultRelInfo* result) {
  TupleConstr* constr = RelationGetDescr(result->ri_RelationDesc)->constr;
  if (constr == nullptr || constr->num_check == 0) return;
  auto** states = static_cast<ExprState**>(palloc(sizeof(ExprState*) * constr->num_check));
  for (int i = 0; i < constr->num_check; ++i) {
    auto* expression = static_cast<Expr*>(stringToNode(constr->check[i].ccbin));
    states[i] = ExecInitExpr(expression_planner(expression), nullptr);
  }
  result->ri_ConstraintExprs = states;
}

// Builds the leaf's parts on `rel` (open), its indexes opened.
void build_leaf(Leaf* leaf, Relation rel, MemoryContext context, ResultRelInfo* root) {
  if (leaf->context != nullptr) MemoryContextDelete(leaf->context);
  *leaf = Leaf{};
  leaf->context = AllocSetContextCreate(context, "chronicle audit partition", ALLOCSET_SMALL_SIZES);
  MemoryContext old = MemoryContextSwitchTo(leaf->context);
  leaf->oid = RelationGetRelid(rel);
  leaf->relation = rel;
  leaf->result = makeNode(ResultRelInfo);
  InitResultRelInfo(leaf->result, rel, 0, root, 0);
  ExecOpenIndices(leaf->result, false);
  leaf->indexes = static_cast<Oid*>(palloc(sizeof(Oid) * (leaf->result->ri_NumIndices + 1)));
  for (int i = 0; i < leaf->result->ri_NumIndices; ++i) {
    leaf->indexes[i] = RelationGetRelid(leaf->result->ri_IndexRelationDescs[i]);
  }
  prepare_leaf_checks(leaf->result);
  leaf->map = build_attrmap_by_name_if_req(RelationGetDescr(root->ri_RelationDesc), RelationGetDescr(rel));
  if (leaf->map != nullptr) {
    leaf->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)), &TTSOpsVirtual);
  }
  MemoryContextSwitchTo(old);
  leaf->generation = invalidations;
}

// Opens the kept leaf's indexes again; false (none left open) when an
// invalidation came in while opening them.
bool reopen_indexes(Leaf* leaf) {
  ResultRelInfo* result = leaf->result;
  for (int i = 0; i < result->ri_NumIndices; ++i) {
    result->ri_IndexRelationDescs[i] = index_open(leaf->indexes[i], RowExclusiveLock);
  }
  if (leaf->generation == invalidations) return true;
  for (int i = 0; i < result->ri_NumIndices; ++i) index_close(result->ri_IndexRelationDescs[i], NoLock);
  return false;
}

}  // namespace

struct LeafRoutes {
  Leaf leaves[kKeptLeaves];
  int next;  // the entry a new leaf takes
};

bool routable_by_id(Relation rel, AttrNumber id_attno) {
  PartitionKey key = RelationGetPartitionKey(rel);
  return key != nullptr && key->strategy == PARTITION_STRATEGY_RANGE && key->partnatts == 1 &&
         key->partattrs[0] == id_attno;
}

void write_routed_row(LeafRoutes** routes, MemoryContext context, EState* estate, ResultRelInfo* root,
                      TupleTableSlot* slot, int64 id, CommandId command) {
  if (!callback_registered) {
    CacheRegisterRelcacheCallback(count_invalidation, 0);
    callback_registered = true;
  }
  if (*routes == nullptr) *routes = static_cast<LeafRoutes*>(MemoryContextAllocZero(context, sizeof(LeafRoutes)));
  Relation parent = root->ri_RelationDesc;
  // As the executor routes a row (get_partition_for_tuple, range strategy).
  PartitionKey key = RelationGetPartitionKey(parent);
  PartitionDesc desc = RelationGetPartitionDesc(parent, true);
  int part = -1;
  if (desc->nparts > 0) {
    Datum value = Int64GetDatum(id);
    bool equal = false;
    const int bound = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, desc->boundinfo, 1, &value,
                                                    &equal);
    part = desc->boundinfo->indexes[bound + 1];
    if (part < 0 && partition_bound_has_default(desc->boundinfo)) part = desc->boundinfo->default_index;
  }
  if (part < 0) {
    ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                    errmsg("no partition of relation \"%s\" found for row", RelationGetRelationName(parent)),
                    errdetail("Partition key of the failing row contains (id) = (" INT64_FORMAT ").", id)));
  }
  if (!desc->is_leaf[part]) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("partition \"%s\" of \"%s\" is itself partitioned", get_rel_name(desc->oids[part]),
                           RelationGetRelationName(parent)),
                    errdetail("The audit writer's fast path writes leaf partitions only.")));
  }
  const Oid oid = desc->oids[part];
  Relation rel = table_open(oid, RowExclusiveLock);  // takes in the invalidations
  Leaf* leaf = nullptr;
  for (Leaf& kept : (*routes)->leaves) {
    if (kept.oid == oid) leaf = &kept;
  }
  if (leaf == nullptr || leaf->relation != rel || leaf->generation != invalidations || !reopen_indexes(leaf)) {
    if (leaf == nullptr) {
      leaf = &(*routes)->leaves[(*routes)->next];
      (*routes)->next = ((*routes)->next + 1) % kKeptLeaves;
    }
    build_leaf(leaf, rel, context, root);
  }

  TupleTableSlot* row = slot;
  if (leaf->map != nullptr) row = execute_attr_map_slot(leaf->map, slot, leaf->slot);
  if (rel->rd_att->constr != nullptr) ExecConstraints(leaf->result, row, estate);
  table_tuple_insert(rel, row, command, 0, nullptr);
  if (leaf->result->ri_NumIndices > 0) {
    ResetPerTupleExprContext(estate);
    ExecInsertIndexTuples(leaf->result, row, estate, false, false, nullptr, NIL);
  }
  if (leaf->map != nullptr) ExecClearTuple(leaf->slot);
  // Closed again, locks kept to the end of the transaction (as the kept row sink does: sink.cpp).
  for (int i = 0; i < leaf->result->ri_NumIndices; ++i) index_close(leaf->result->ri_IndexRelationDescs[i], NoLock);
  table_close(rel, NoLock);
}

}  // namespace chronicle::audit
