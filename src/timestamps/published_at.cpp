// set_published_at(): BEFORE INSERT OR UPDATE FOR EACH ROW. Arguments: status
// column, published value, timestamp column (defaults status, published,
// published_at). A change into the published status stamps the timestamp with
// CURRENT_TIMESTAMP (an INSERT that supplies a non-NULL timestamp keeps it); a
// change out of it clears the timestamp. "Published" is decided with the status
// type's own equality and the column's collation, as the reference's
// `NEW.status = 'published'` would, so enum and domain status columns work too.
#include "pg/boundary.h"
#include "pg/trigger.h"
#include "timestamps/timestamps.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
}

namespace chronicle::timestamps {
namespace {

constexpr pg::TriggerShape kShape{"set_published_at", pg::Timing::Before, pg::Level::Row, pg::kInsert | pg::kUpdate,
                                  "BEFORE INSERT OR UPDATE FOR EACH ROW"};

struct PublishedAtColumns {
  AttrNumber status_attnum;
  Oid status_collation;
  FmgrInfo status_equal;  // the status type's default equality
  Datum published;        // the published value, of the status column's type
  int timestamp_attnum;   // int, as heap_modify_tuple_by_cols takes it
  Oid timestamp_type;
};

pg::TriggerCache<PublishedAtColumns> cache("chronicle published_at columns");

PublishedAtColumns* resolve(TriggerData* trigger, MemoryContext context) {
  const Trigger* t = trigger->tg_trigger;
  if (t->tgnargs > 3) {
    throw Error(sqlstate::kInvalidParameterValue,
                fmt::format("set_published_at() takes at most three arguments, {} has {}",
                            pg::describe_trigger(trigger), t->tgnargs))
        .hint("Pass the status column, the published value and the timestamp column.");
  }
  const char* status_name = t->tgnargs >= 1 ? t->tgargs[0] : "status";
  const char* published_text = t->tgnargs >= 2 ? t->tgargs[1] : "published";
  const char* timestamp_name = t->tgnargs >= 3 ? t->tgargs[2] : "published_at";

  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  const AttrNumber status_attnum = pg::find_column(trigger, status_name);
  const AttrNumber timestamp_attnum = pg::find_column(trigger, timestamp_name);
  pg::require_column_type(trigger, timestamp_attnum, {TIMESTAMPOID, TIMESTAMPTZOID},
                          "timestamp or timestamp with time zone");
  Form_pg_attribute status = TupleDescAttr(desc, status_attnum - 1);

  TypeCacheEntry* type = pg::pg_call([&] { return lookup_type_cache(status->atttypid, TYPECACHE_EQ_OPR_FINFO); });
  if (!OidIsValid(type->eq_opr_finfo.fn_oid)) {
    const char* type_name = pg::pg_call([&] { return format_type_be(status->atttypid); });
    throw Error(sqlstate::kDatatypeMismatch,
                fmt::format("column \"{}\" of relation \"{}\" is of type {}, which has no equality operator",
                            status_name, RelationGetRelationName(trigger->tg_relation), type_name))
        .detail(fmt::format("The column is named by {}.", pg::describe_trigger(trigger)))
        .table(pg::relation_schema(trigger->tg_relation), RelationGetRelationName(trigger->tg_relation))
        .column(status_name);
  }

  auto* columns = static_cast<PublishedAtColumns*>(
      pg::pg_call([&] { return MemoryContextAllocZero(context, sizeof(PublishedAtColumns)); }));
  columns->status_attnum = status_attnum;
  columns->status_collation = status->attcollation;
  columns->timestamp_attnum = timestamp_attnum;
  columns->timestamp_type = TupleDescAttr(desc, timestamp_attnum - 1)->atttypid;
  pg::pg_call([&] {
    fmgr_info_cxt(type->eq_opr_finfo.fn_oid, &columns->status_equal, context);
    // The published value in the status column's type: an invalid enum label or
    // a value too long for varchar(n) fails here, with the type's own error.
    Oid input_function = InvalidOid;
    Oid input_param = InvalidOid;
    getTypeInputInfo(status->atttypid, &input_function, &input_param);
    Datum value = OidInputFunctionCall(input_function, const_cast<char*>(published_text), input_param,
                                       status->atttypmod);
    MemoryContext previous = MemoryContextSwitchTo(context);
    columns->published = datumCopy(value, status->attbyval, status->attlen);
    MemoryContextSwitchTo(previous);
  });
  return columns;
}

enum class Status { Null, Published, Other };

// Hot path: plain PostgreSQL calls, no C++ object alive (boundary rule 3).
Status status_of(const PublishedAtColumns& columns, HeapTuple tuple, TupleDesc desc) {
  bool is_null = false;
  Datum value = heap_getattr(tuple, columns.status_attnum, desc, &is_null);
  if (is_null) return Status::Null;
  const Datum equal = FunctionCall2Coll(const_cast<FmgrInfo*>(&columns.status_equal), columns.status_collation, value,
                                        columns.published);
  return DatumGetBool(equal) ? Status::Published : Status::Other;
}

}  // namespace
}  // namespace chronicle::timestamps

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_set_published_at) {
  using timestamps::Status;
  TriggerData* trigger = pg::require_trigger(fcinfo, timestamps::kShape);
  const auto& columns = timestamps::cache.get(trigger, timestamps::resolve);
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);

  const bool is_insert = pg::event_of(trigger) == pg::kInsert;
  HeapTuple row = is_insert ? trigger->tg_trigtuple : trigger->tg_newtuple;
  const Status now = timestamps::status_of(columns, row, desc);
  const Status before = is_insert ? Status::Null : timestamps::status_of(columns, trigger->tg_trigtuple, desc);

  // The reference's rules: into published (from NULL or another status) stamps
  // the time; from published to another (non-NULL) status clears it.
  Datum value = 0;
  bool is_null = false;
  if (now == Status::Published && before != Status::Published) {
    if (is_insert && !heap_attisnull(row, columns.timestamp_attnum, desc)) {
      return PointerGetDatum(row);  // an import keeps its own publication time
    }
    value = timestamps::current_timestamp_as(columns.timestamp_type);
  } else if (now == Status::Other && before == Status::Published) {
    is_null = true;
  } else {
    return PointerGetDatum(row);
  }
  int attnum = columns.timestamp_attnum;
  return PointerGetDatum(heap_modify_tuple_by_cols(row, desc, 1, &attnum, &value, &is_null));
}
