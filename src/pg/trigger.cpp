#include "pg/trigger.h"

#include <algorithm>

#include "pg/boundary.h"
#include "pg/catalog.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace chronicle::pg {
namespace {

[[noreturn]] void misfired(const TriggerShape& shape, const std::string& how) {
  throw Error(sqlstate::kTriggerProtocolViolated, fmt::format("{}() must be fired {}", shape.function, shape.usage))
      .detail(how);
}

}  // namespace

std::string relation_schema(Relation rel) {
  const char* name = pg_call([&] { return get_namespace_name(RelationGetNamespace(rel)); });
  return name != nullptr ? name : "";
}

std::string describe_trigger(const TriggerData* trigger) {
  Relation rel = trigger->tg_relation;
  return fmt::format("trigger \"{}\" on table \"{}.{}\"", trigger->tg_trigger->tgname, relation_schema(rel),
                     RelationGetRelationName(rel));
}

Event event_of(const TriggerData* trigger) {
  if (TRIGGER_FIRED_BY_INSERT(trigger->tg_event)) return kInsert;
  if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)) return kUpdate;
  // TRUNCATE never gets here: require_trigger rejects it first.
  Assert(TRIGGER_FIRED_BY_DELETE(trigger->tg_event));
  return kDelete;
}

TriggerData* require_trigger(FunctionCallInfo fcinfo, const TriggerShape& shape) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    throw Error(sqlstate::kTriggerProtocolViolated,
                fmt::format("{}() was not called by the trigger manager", shape.function))
        .hint(fmt::format("Attach it with CREATE TRIGGER ... {} EXECUTE FUNCTION {}().", shape.usage, shape.function));
  }
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  const TriggerEvent event = trigger->tg_event;
  const bool before = TRIGGER_FIRED_BEFORE(event);
  const bool row = TRIGGER_FIRED_FOR_ROW(event);
  const char* op = TRIGGER_FIRED_BY_INSERT(event)   ? "INSERT"
                   : TRIGGER_FIRED_BY_UPDATE(event) ? "UPDATE"
                   : TRIGGER_FIRED_BY_DELETE(event) ? "DELETE"
                                                    : "TRUNCATE";
  const bool timing_ok = TRIGGER_FIRED_INSTEAD(event) ? false : (before == (shape.timing == Timing::Before));
  const bool level_ok = row == (shape.level == Level::Row);
  const bool event_ok = !TRIGGER_FIRED_BY_TRUNCATE(event) && (event_of(trigger) & shape.events) != 0;
  if (!timing_ok || !level_ok || !event_ok) {
    const char* when = TRIGGER_FIRED_INSTEAD(event) ? "INSTEAD OF" : before ? "BEFORE" : "AFTER";
    std::string how = fmt::format("{} fired it {} {} FOR EACH {}.", describe_trigger(trigger), when, op,
                                  row ? "ROW" : "STATEMENT");
    how[0] = 'T';  // a detail is a sentence
    misfired(shape, how);
  }
  return trigger;
}

AttrNumber find_column(const TriggerData* trigger, const char* name) {
  Relation rel = trigger->tg_relation;
  const AttrNumber attnum = live_column(RelationGetDescr(rel), name);
  if (attnum != InvalidAttrNumber) return attnum;
  throw Error(sqlstate::kUndefinedColumn,
              fmt::format("column \"{}\" of relation \"{}\" does not exist", name, RelationGetRelationName(rel)))
      .detail(fmt::format("The column is named by {}.", describe_trigger(trigger)))
      .table(relation_schema(rel), RelationGetRelationName(rel))
      .column(name);
}

void require_column_type(const TriggerData* trigger, AttrNumber attnum, std::initializer_list<Oid> types,
                         const char* expected) {
  Relation rel = trigger->tg_relation;
  Assert(attnum > 0 && attnum <= RelationGetDescr(rel)->natts);  // from find_column
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
  if (std::find(types.begin(), types.end(), attr->atttypid) != types.end()) return;
  const char* actual = pg_call([&] { return format_type_be(attr->atttypid); });
  throw Error(sqlstate::kDatatypeMismatch,
              fmt::format("column \"{}\" of relation \"{}\" is of type {}, not {}", NameStr(attr->attname),
                          RelationGetRelationName(rel), actual, expected))
      .detail(fmt::format("The column is named by {}.", describe_trigger(trigger)))
      .table(relation_schema(rel), RelationGetRelationName(rel))
      .column(NameStr(attr->attname));
}

}  // namespace chronicle::pg
