// update_updated_at_column(): BEFORE UPDATE FOR EACH ROW, sets a timestamp
// column (argument 1, default updated_at) to CURRENT_TIMESTAMP. Arguments 2 and
// on are options of the form key=value: not_an_edit=<col>[,<col>...] leaves the
// column alone on an UPDATE that only changes the values of those columns.
#include <string>
#include <vector>

#include "core/options.h"
#include "pg/boundary.h"
#include "pg/trigger.h"
#include "timestamps/timestamps.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
}

namespace chronicle::timestamps {
namespace {

constexpr pg::TriggerShape kShape{"update_updated_at_column", pg::Timing::Before, pg::Level::Row, pg::kUpdate,
                                  "BEFORE UPDATE FOR EACH ROW"};

struct UpdatedAtColumn {
  int attnum;  // int, as heap_modify_tuple_by_cols takes it
  Oid type;
  const pg::NotAnEdit* not_an_edit;  // nullptr without the option
};

pg::TriggerCache<UpdatedAtColumn> cache("chronicle updated_at columns");

UpdatedAtColumn* resolve(TriggerData* trigger, MemoryContext context) {
  const Trigger* t = trigger->tg_trigger;
  const char* name = t->tgnargs >= 1 ? t->tgargs[0] : "updated_at";
  const AttrNumber attnum = pg::find_column(trigger, name);
  pg::require_column_type(trigger, attnum, {TIMESTAMPOID, TIMESTAMPTZOID}, "timestamp or timestamp with time zone");
  std::vector<std::string> args;
  for (int i = 1; i < t->tgnargs; ++i) args.emplace_back(t->tgargs[i]);
  const std::vector<Option> options = parse_options(args, {pg::kNotAnEditKey}, pg::describe_trigger(trigger));
  auto* column = static_cast<UpdatedAtColumn*>(
      pg::pg_call([&] { return MemoryContextAlloc(context, sizeof(UpdatedAtColumn)); }));
  column->attnum = attnum;
  column->type = TupleDescAttr(RelationGetDescr(trigger->tg_relation), attnum - 1)->atttypid;
  column->not_an_edit = nullptr;
  for (const Option& option : options) {  // not_an_edit, the one key
    column->not_an_edit = pg::build_not_an_edit(trigger, option.value, context);
  }
  return column;
}

}  // namespace
}  // namespace chronicle::timestamps

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_update_updated_at_column) {
  TriggerData* trigger = pg::require_trigger(fcinfo, timestamps::kShape);
  const auto& column = timestamps::cache.get(trigger, timestamps::resolve);

  // Hot path: no C++ object with a destructor is alive below (boundary rule 3).
  if (column.not_an_edit != nullptr &&
      pg::is_not_an_edit(*column.not_an_edit, trigger->tg_trigslot, trigger->tg_newslot)) {
    return PointerGetDatum(trigger->tg_newtuple);
  }
  Datum value = timestamps::current_timestamp_as(column.type);
  bool is_null = false;
  int attnum = column.attnum;
  HeapTuple updated = heap_modify_tuple_by_cols(trigger->tg_newtuple, RelationGetDescr(trigger->tg_relation), 1,
                                                &attnum, &value, &is_null);
  return PointerGetDatum(updated);
}
