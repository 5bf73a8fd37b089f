#include "pg/not_an_edit.h"

#include <algorithm>

#include "core/options.h"
#include "pg/boundary.h"
#include "pg/equality.h"
#include "pg/trigger.h"

extern "C" {
#include "access/tupdesc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace chronicle::pg {
namespace {

void resolve(NotAnEditColumn& column, Form_pg_attribute attr, MemoryContext context) {
  column.attnum = attr->attnum;
  column.typbyval = attr->attbyval;
  column.typlen = attr->attlen;
  column.collation = attr->attcollation;
  const Oid eq = equality_operator(attr->atttypid, getBaseType(attr->atttypid));
  column.has_equal = OidIsValid(eq);
  if (column.has_equal) fmgr_info_cxt(get_opcode(eq), &column.equal, context);
}

bool distinct(const NotAnEditColumn& column, TupleTableSlot* old_row, TupleTableSlot* new_row) {
  const int i = column.attnum - 1;
  const bool old_null = old_row->tts_isnull[i];
  if (old_null != new_row->tts_isnull[i]) return true;
  if (old_null) return false;
  const Datum a = old_row->tts_values[i];
  const Datum b = new_row->tts_values[i];
  if (column.typbyval && a == b) return false;  // the common case, without a call
  return !same_value(column.has_equal ? &column.equal : nullptr, column.collation, column.typbyval, column.typlen, a,
                     b);
}

}  // namespace

NotAnEdit* build_not_an_edit(TriggerData* trigger, const std::string& list, MemoryContext context) {
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  std::vector<bool> listed(desc->natts, false);
  for (const std::string& name : split_identifier_list(list, describe_trigger(trigger))) {
    listed[find_column(trigger, name.c_str()) - 1] = true;
  }
  std::vector<int> order;  // attribute indexes: the others, then the listed
  for (const bool want_listed : {false, true}) {
    for (int i = 0; i < desc->natts; ++i) {
      Form_pg_attribute attr = TupleDescAttr(desc, i);
      if (attr->attisdropped || attr->attgenerated != '\0' || listed[i] != want_listed) continue;
      order.push_back(i);
    }
  }
  auto* rule = static_cast<NotAnEdit*>(pg_call([&] { return MemoryContextAllocZero(context, sizeof(NotAnEdit)); }));
  rule->listed_count = static_cast<int>(std::count_if(order.begin(), order.end(), [&](int i) { return listed[i]; }));
  rule->other_count = static_cast<int>(order.size()) - rule->listed_count;
  rule->columns = static_cast<NotAnEditColumn*>(pg_call(
      [&] { return MemoryContextAllocZero(context, sizeof(NotAnEditColumn) * std::max<size_t>(order.size(), 1)); }));
  for (size_t k = 0; k < order.size(); ++k) {
    NotAnEditColumn& column = rule->columns[k];
    Form_pg_attribute attr = TupleDescAttr(desc, order[k]);
    pg_call([&] { resolve(column, attr, context); });
  }
  return rule;
}

bool is_not_an_edit(const NotAnEdit& rule, TupleTableSlot* old_row, TupleTableSlot* new_row) {
  slot_getallattrs(old_row);
  slot_getallattrs(new_row);
  const NotAnEditColumn* other = rule.columns;
  for (int k = 0; k < rule.other_count; ++k) {
    if (distinct(other[k], old_row, new_row)) return false;
  }
  const NotAnEditColumn* listed = rule.columns + rule.other_count;
  for (int k = 0; k < rule.listed_count; ++k) {
    if (distinct(listed[k], old_row, new_row)) return true;
  }
  return false;  // nothing changed: a no-op UPDATE is an edit
}

}  // namespace chronicle::pg
