// post_counts_after_insert() / post_counts_after_delete(): AFTER INSERT / AFTER
// DELETE FOR EACH STATEMENT triggers on posts, with the statement's transition
// table; post_counts_after_update(): AFTER UPDATE OF user_id, status FOR EACH
// ROW (in 1.0 and 1.1 WHEN either changed; from 1.2 the function skips the
// other rows itself: see after_update). They keep post_counts exact in the writing
// transaction without long-held row locks (see the 1.0 script): per (user_id,
// status), in key order, if the pair's advisory lock is free (never waiting) and
// the transaction runs under READ COMMITTED, add the signed change to the pair's
// row of post_count_totals and fold into it the deltas other writers left (at
// most 128 per fold: post_count_store.h);
// otherwise append the change to post_count_deltas. Only the lock holder touches
// a pair's total or deletes its deltas, so writers that share no post never wait
// for each other here. Under REPEATABLE READ or SERIALIZABLE a fold could fail on
// rows changed since the snapshot, so those writers only append.
// (Until 1.2's library every write appended a delta and the lock holder deleted
// it again at once: an insert and a delete of a row per write, whose dead rows
// slowed every later fold of a busy pair until VACUUM came by.)
//
// Application roles can make posts but cannot touch the counts: a fold writes
// through the table AM, which checks no privilege (post_count_store.h); a delta
// is appended through SPI as the tables' owner (OwnerScope). EXECUTE on these
// functions is revoked from PUBLIC (CREATE TRIGGER needs it), and a firing on any
// table but the extension's posts is refused.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "pg/boundary.h"
#include "pg/spi.h"
#include "pg/trigger.h"
#include "posts/owner_scope.h"
#include "posts/plans.h"
#include "posts/post_count_store.h"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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
    throw Error(sqlstate::kTriggerProtocolViolated, fmt::format("{}() maintains post_counts for posts only", function))
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

// The advisory lock of one (user_id, status): class kLockClass, the pair's hash.
constexpr int32 kLockClass = 0x63706374;  // "cpct"

uint32 pair_hash(const CountKey& key) {
  uint32 hash = 2166136261u;  // FNV-1a over the uuid and the status
  const auto mix = [&hash](unsigned char byte) { hash = (hash ^ byte) * 16777619u; };
  for (unsigned char byte : key.first) mix(byte);
  for (char c : key.second) mix(static_cast<unsigned char>(c));
  return hash;
}

// True the first time this transaction asks for a pair (by hash; a collision
// only skips a fold). A fold deletes the pair's delta rows and updates its
// total, and row versions a running transaction made itself cannot be pruned: a
// second fold of the same pair would walk all of them again, so a long
// transaction would cost quadratic time. Later changes of the pair are appended
// as deltas for the next transaction's fold instead (reads add them up meanwhile). The set lives in
// TopTransactionContext and is made anew for each transaction.
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

void apply_deltas(const Counts& deltas, Oid schema) {
  // SPI only for the rarer path (a delta appended); folds are native.
  std::optional<pg::SpiSession> spi;
  std::optional<OwnerScope> owner;
  const bool may_fold = !IsolationUsesXactSnapshot();
  for (const auto& entry : deltas) {
    // Named copies, not structured bindings: C++17 lambdas cannot capture those.
    const auto& key = entry.first;
    const auto delta = entry.second;
    if (delta == 0) continue;
    pg_uuid_t user;
    std::memcpy(user.data, key.first.data(), UUID_LEN);
    const Datum status = pg::pg_call(
        [&] { return PointerGetDatum(cstring_to_text_with_len(key.second.data(), key.second.size())); });
    const uint32 hash = pair_hash(key);
    if (may_fold && first_fold_in_transaction(hash) && try_pair_lock(hash)) {
      pg::pg_call([&] { fold_pair(schema, UUIDPGetDatum(&user), status, delta); });
      continue;
    }
    if (!spi) {
      spi.emplace();
      owner.emplace(schema, "post_count_deltas");
    }
    Datum values[3] = {UUIDPGetDatum(&user), status, Int64GetDatum(delta)};
    spi->execute(plan_for(Query::DeltaInsert, schema), values, nullptr, false);
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
  Counts counts = count_rows(trigger, rows);
  if (!inserted) {
    for (auto& entry : counts) entry.second = -entry.second;
  }
  apply_deltas(counts, schema);
  return PointerGetDatum(nullptr);
}

constexpr pg::TriggerShape kUpdateShape{"post_counts_after_update", pg::Timing::After, pg::Level::Row, pg::kUpdate,
                                        "AFTER UPDATE FOR EACH ROW on posts"};

CountKey key_of_row(TriggerData* trigger, HeapTuple row, AttrNumber user_attnum, AttrNumber status_attnum) {
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  bool user_null = false;
  bool status_null = false;
  const Datum user = heap_getattr(row, user_attnum, desc, &user_null);
  const Datum status = heap_getattr(row, status_attnum, desc, &status_null);
  if (user_null || status_null) throw Error(sqlstate::kInternalError, "posts.user_id and posts.status are NOT NULL");
  const text* status_text = pg::pg_call([&] { return DatumGetTextPP(status); });
  CountKey key;
  std::memcpy(key.first.data(), DatumGetUUIDP(user)->data, UUID_LEN);
  key.second.assign(VARDATA_ANY(status_text), VARSIZE_ANY_EXHDR(status_text));
  return key;
}

Datum after_update(FunctionCallInfo fcinfo) {
  TriggerData* trigger = pg::require_trigger(fcinfo, kUpdateShape);
  const Oid schema = extension_schema(fcinfo);
  require_posts(trigger, schema, kUpdateShape.function);
  const AttrNumber user_attnum = pg::find_column(trigger, "user_id");
  const AttrNumber status_attnum = pg::find_column(trigger, "status");
  CountKey old_key = key_of_row(trigger, trigger->tg_trigtuple, user_attnum, status_attnum);
  CountKey new_key = key_of_row(trigger, trigger->tg_newtuple, user_attnum, status_attnum);
  // An UPDATE that sets user_id or status to the value it had. 1.0 and 1.1 leave
  // such rows out with the trigger's WHEN clause; 1.2 drops the clause, which
  // PostgreSQL parses and compiles again in every statement (34,000
  // instructions of a single-row UPDATE), and leaves them to this test.
  if (old_key == new_key) return PointerGetDatum(nullptr);
  Counts deltas{{std::move(old_key), -1}, {std::move(new_key), 1}};
  apply_deltas(deltas, schema);
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
