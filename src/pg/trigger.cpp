#include "pg/trigger.h"

#include <algorithm>
#include <cstring>

#include "core/options.h"
#include "pg/boundary.h"
#include "pg/catalog.h"

extern "C" {
#include "access/tupdesc.h"
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"
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

Oid equality_operator(Oid type, Oid base) {
  TypeCacheEntry* entry = lookup_type_cache(type, TYPECACHE_EQ_OPR);
  if (OidIsValid(entry->eq_opr)) return entry->eq_opr;
  List* name = list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup("=")));
  return OpernameGetOprid(name, base, base);
}

bool same_value(const FmgrInfo* equal, Oid collation, bool typbyval, int16 typlen, Datum a, Datum b) {
  // Identical images are equal under every = operator PostgreSQL ships (NaN = NaN
  // included), and an unchanged TOASTed value keeps its pointer: no detoasting.
  if (datumIsEqual(a, b, typbyval, typlen)) return true;
  if (equal != nullptr) return DatumGetBool(FunctionCall2Coll(const_cast<FmgrInfo*>(equal), collation, a, b));
  if (typlen != -1) return false;  // fixed-length images differ
  // A varlena without =: compare the detoasted, decompressed bytes.
  struct varlena* x = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(a)));
  struct varlena* y = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(b)));
  const size_t length = VARSIZE_ANY_EXHDR(x);
  return length == VARSIZE_ANY_EXHDR(y) && std::memcmp(VARDATA_ANY(x), VARDATA_ANY(y), length) == 0;
}

namespace {

constexpr int kMaxCaches = 8;

struct Entry {
  Oid trigger_oid;  // hash key
  Oid relation_oid;
  bool valid;
  uint32 invalidations;   // counts the callback's marks, to see one that came during a build
  MemoryContext context;  // owns payload; nullptr while never built
  void* payload;
};

struct Cache {
  const char* name;
  HTAB* entries;  // created on first use, in CacheMemoryContext
};

Cache caches[kMaxCaches];
int cache_count = 0;

void invalidate_relation(Datum, Oid relation_oid) {
  for (int i = 0; i < cache_count; ++i) {
    if (caches[i].entries == nullptr) continue;
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, caches[i].entries);
    while (auto* entry = static_cast<Entry*>(hash_seq_search(&scan))) {
      if (relation_oid == InvalidOid || entry->relation_oid == relation_oid) {
        entry->valid = false;
        ++entry->invalidations;
      }
    }
  }
}

HTAB* entries_of(Cache& cache) {
  if (cache.entries == nullptr) {
    HASHCTL control{};
    control.keysize = sizeof(Oid);
    control.entrysize = sizeof(Entry);
    control.hcxt = CacheMemoryContext;
    cache.entries = pg_call(
        [&] { return hash_create(cache.name, 32, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT); });
  }
  return cache.entries;
}

}  // namespace

int detail::register_trigger_cache(const char* name) {
  if (cache_count == kMaxCaches) throw Error(sqlstate::kInternalError, "too many chronicle trigger caches");
  caches[cache_count] = Cache{name, nullptr};
  return cache_count++;
}

// A superseded payload may still be in use: the relcache invalidation that
// made it stale can arrive while a firing of the same trigger runs (user code
// called by that firing, such as a CHECK constraint or an index expression on
// audit_logs, may ALTER or GRANT on the table and then write to it, firing the
// trigger again), and that nested firing rebuilds the entry under the outer
// one's feet. So the old context is not deleted but handed to the top-level
// transaction's memory, freed at its commit or abort, when no firing can be
// running any more. A rebuild is rare (once per relation change), so what waits
// there until the end of the transaction is small.
namespace {
void retire(MemoryContext context) { MemoryContextSetParent(context, TopTransactionContext); }
}  // namespace

void* detail::trigger_cache_lookup(int cache_id, TriggerData* trigger, BuildPayload build, void* arg) {
  HTAB* entries = entries_of(caches[cache_id]);
  const Oid key = trigger->tg_trigger->tgoid;
  bool found = false;
  auto* entry = static_cast<Entry*>(pg_call([&] { return hash_search(entries, &key, HASH_ENTER, &found); }));
  if (!found) *entry = Entry{key, RelationGetRelid(trigger->tg_relation), false, 0, nullptr, nullptr};
  if (entry->valid) return entry->payload;

  // Build under the current (per-call) context first: if build throws, the new
  // context goes away with the call's memory. Only a complete payload is moved
  // under CacheMemoryContext.
  const uint32 invalidations = entry->invalidations;
  MemoryContext context = pg_call([] {
    return AllocSetContextCreate(CurrentMemoryContext, "chronicle trigger cache entry", ALLOCSET_SMALL_SIZES);
  });
  void* payload = build(trigger, context, arg);
  // (dynahash never moves an entry, so `entry` still points at it after build.)
  pg_call([&] {
    MemoryContextSetParent(context, CacheMemoryContext);
    if (entry->context != nullptr) retire(entry->context);
  });
  entry->relation_oid = RelationGetRelid(trigger->tg_relation);
  entry->context = context;
  entry->payload = payload;
  // An invalidation that arrived while building (build takes locks, which
  // accept invalidation messages) may postdate what build read: this firing
  // uses the payload, the next one builds again.
  entry->valid = entry->invalidations == invalidations;
  return payload;
}

void register_trigger_cache_invalidation() { CacheRegisterRelcacheCallback(invalidate_relation, 0); }

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
