// post_counts_after_insert() / post_counts_after_delete(): AFTER INSERT / AFTER
// DELETE FOR EACH STATEMENT triggers on posts, with the statement's transition
// table. They add (subtract) the statement's rows per (user_id, status) to
// post_counts, in the writing transaction, so get_user_posts' total_count stays
// exact under any mix of writers.
//
// One pass over the transition table groups the rows (a C++ map, in key order);
// then one saved upsert (or subtraction) per group, in key order, so two
// statements never wait for each other's count rows in opposite orders. The
// writes to post_counts run as that table's owner (OwnerScope): application
// roles can make posts but cannot touch the counts. EXECUTE on these functions
// is revoked from PUBLIC (CREATE TRIGGER needs it), and a firing on any table
// but the extension's posts is refused, so they cannot be turned on post_counts
// from elsewhere.
#include <array>
#include <map>
#include <string>
#include <utility>

#include "pg/boundary.h"
#include "pg/spi.h"
#include "pg/trigger.h"
#include "posts/owner_scope.h"
#include "posts/plans.h"

extern "C" {
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace chronicle::posts {
namespace {

using CountKey = std::pair<std::array<unsigned char, UUID_LEN>, std::string>;
using Counts = std::map<CountKey, int64>;

constexpr pg::TriggerShape kInsertShape{"post_counts_after_insert", pg::Timing::After, pg::Level::Statement,
                                        pg::kInsert, "AFTER INSERT FOR EACH STATEMENT on posts"};
constexpr pg::TriggerShape kDeleteShape{"post_counts_after_delete", pg::Timing::After, pg::Level::Statement,
                                        pg::kDelete, "AFTER DELETE FOR EACH STATEMENT on posts"};

void require_posts(TriggerData* trigger, Oid schema, const char* function) {
  Relation rel = trigger->tg_relation;
  if (RelationGetNamespace(rel) != schema || std::strcmp(RelationGetRelationName(rel), "posts") != 0) {
    throw Error(sqlstate::kTriggerProtocolViolated,
                fmt::format("{}() maintains post_counts for posts only", function))
        .detail(fmt::format("It was fired by {}.", pg::describe_trigger(trigger)));
  }
}

// Groups the rows of the transition table by (user_id, status).
Counts count_rows(TriggerData* trigger, Tuplestorestate* rows) {
  const AttrNumber user_attnum = pg::find_column(trigger, "user_id");
  const AttrNumber status_attnum = pg::find_column(trigger, "status");
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  Counts counts;
  pg::pg_call([&] {
    // The map lives outside this lambda; inside, no C++ object is alive across
    // a PostgreSQL call (each key is built after the row's datums are read).
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
      const text* status_text = DatumGetTextPP(status);
      CountKey key;
      std::memcpy(key.first.data(), DatumGetUUIDP(user)->data, UUID_LEN);
      key.second.assign(VARDATA_ANY(status_text), VARSIZE_ANY_EXHDR(status_text));
      ++counts[key];
    }
    tuplestore_select_read_pointer(rows, 0);
    ExecDropSingleTupleTableSlot(slot);
  });
  return counts;
}

void apply(const Counts& counts, Oid schema, bool inserted) {
  if (counts.empty()) return;
  pg::SpiSession spi;
  OwnerScope owner(schema, "post_counts");
  for (const auto& [key, count] : counts) {
    pg_uuid_t user;
    std::memcpy(user.data, key.first.data(), UUID_LEN);
    const Datum status = pg::pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(key.second.data(), key.second.size())); });
    Datum values[3] = {UUIDPGetDatum(&user), status, Int64GetDatum(count)};
    if (inserted) {
      spi.execute(plan_for(Query::CountAdd, schema), values, nullptr, false);
    } else if (spi.execute(plan_for(Query::CountSubtract, schema), values, nullptr, false) == 1) {
      bool is_null = false;
      const Datum left = SPI_getbinval(spi.result()->vals[0], spi.result()->tupdesc, 1, &is_null);
      // A user deleted with all of their posts leaves no zero row behind.
      if (!is_null && DatumGetInt64(left) == 0) spi.execute(plan_for(Query::CountDropZero, schema), values, nullptr, false);
    }
  }
}

Datum after_write(FunctionCallInfo fcinfo, const pg::TriggerShape& shape, bool inserted) {
  TriggerData* trigger = pg::require_trigger(fcinfo, shape);
  const Oid schema = extension_schema(fcinfo);
  require_posts(trigger, schema, shape.function);
  Tuplestorestate* rows = inserted ? trigger->tg_newtable : trigger->tg_oldtable;
  if (rows == nullptr) {
    throw Error(sqlstate::kTriggerProtocolViolated,
                fmt::format("{}() needs the statement's transition table", shape.function))
        .hint(inserted ? "Create the trigger with REFERENCING NEW TABLE AS new_rows."
                       : "Create the trigger with REFERENCING OLD TABLE AS old_rows.");
  }
  apply(count_rows(trigger, rows), schema, inserted);
  return PointerGetDatum(nullptr);
}

}  // namespace
}  // namespace chronicle::posts

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_post_counts_after_insert) {
  return posts::after_write(fcinfo, posts::kInsertShape, true);
}

CHRONICLE_FUNCTION(chronicle_post_counts_after_delete) {
  return posts::after_write(fcinfo, posts::kDeleteShape, false);
}
