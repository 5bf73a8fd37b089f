#include "pg/direct_write.h"

extern "C" {
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/rel.h"
}

namespace chronicle::pg {

ResultRelInfo* open_result_relation(EState* estate, Relation rel, Bitmapset* updated_columns) {
  MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
  RangeTblEntry* rte = makeNode(RangeTblEntry);
  rte->rtekind = RTE_RELATION;
  rte->relid = RelationGetRelid(rel);
  rte->relkind = rel->rd_rel->relkind;
  rte->rellockmode = RowExclusiveLock;
  rte->updatedCols = updated_columns;
  ExecInitRangeTable(estate, list_make1(rte));
  ResultRelInfo* result = makeNode(ResultRelInfo);
  InitResultRelInfo(result, rel, 1, nullptr, 0);
  ExecOpenIndices(result, false);
  MemoryContextSwitchTo(old);
  return result;
}

}  // namespace chronicle::pg
