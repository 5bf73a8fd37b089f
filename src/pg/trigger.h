// Trigger functions' common ground: checks that a trigger function is fired the
// way it was written for, the columns its arguments name, a per-trigger cache of
// what it derives from them, value equality (IS DISTINCT FROM) and the
// not_an_edit= option. Misuse is reported as 39P01 for the wrong call, 42703 /
// 42804 for a bad column.

#pragma once

#include "pg/postgres_headers.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

extern "C" {
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/rel.h"
}

namespace chronicle::pg {

enum class Timing { Before, After };
enum class Level { Row, Statement };

// Trigger events as a bit set.
enum Event : unsigned { kInsert = 1, kUpdate = 2, kDelete = 4 };

// What a trigger function accepts. `usage` completes the sentence
// "<function>() must be fired ...", e.g. "BEFORE UPDATE FOR EACH ROW".
struct TriggerShape {
  const char* function;
  Timing timing;
  Level level;
  unsigned events;
  const char* usage;
};

// Returns the TriggerData of this call, or throws 39P01 when the function was
// not called by the trigger manager or was fired in a way `shape` does not allow.
TriggerData* require_trigger(FunctionCallInfo fcinfo, const TriggerShape& shape);

// The event of this firing (one of Event).
Event event_of(const TriggerData* trigger);

// The attribute number of the live column `name` of the trigger's relation, or a
// 42703 error that names the table, the column and the trigger.
AttrNumber find_column(const TriggerData* trigger, const char* name);

// Throws 42804 naming the table, column and trigger unless column `attnum` is of
// one of `types` (exactly: a domain over one of them is refused too, since a
// BEFORE trigger's assignment would bypass the domain's checks).
void require_column_type(const TriggerData* trigger, AttrNumber attnum, std::initializer_list<Oid> types,
                         const char* expected);

// The name of the schema of `rel` ("" if it was dropped concurrently).
std::string relation_schema(Relation rel);

// "trigger \"name\" on table \"schema.table\"", for messages.
std::string describe_trigger(const TriggerData* trigger);

// IS DISTINCT FROM between two values of a column, as changed_fields and the
// not_an_edit= option decide it: the type's = operator, with identical images
// taken as equal first (the common case, and no detoasting).

// The = operator IS DISTINCT FROM would use for `type` (whose domains are looked
// through to `base`): the type's default equality (from its btree or hash
// opclass, as the type cache finds it), else an exact pg_catalog.=(base, base),
// else InvalidOid (json, xml, point, ...: then only the images can be compared).
// Catalog lookups: may ereport, call it through pg_call.
Oid equality_operator(Oid type, Oid base);

// True when the two non-null values are not distinct. `equal` is the = operator's
// function, or nullptr for a type without one: then the (detoasted) images
// decide. Hot path: plain PostgreSQL calls only (boundary rule 3).
bool same_value(const FmgrInfo* equal, Oid collation, bool typbyval, int16 typlen, Datum a, Datum b);

// A per-trigger cache of what a trigger function derives from its relation and
// arguments (attribute numbers, types, parsed options, prepared plans), built
// once per relation version.
//
// Entries are keyed by the trigger's OID and live in CacheMemoryContext, each in
// a context of its own. One relcache callback (registered in _PG_init) marks the
// entries of a changed relation invalid: ALTER TABLE, RENAME/DROP COLUMN and
// CREATE/DROP TRIGGER all send a relcache invalidation. An invalid entry is only
// rebuilt at the start of the next firing, never freed inside the callback,
// because the callback can run while a firing is still using the entry; and the
// payload a rebuild replaces is freed at the end of the top-level transaction,
// not at once, because that rebuild can happen in a firing nested inside one
// still using it (trigger.cpp). A payload is good until the end of the
// transaction in which get() returned it.

namespace detail {
using BuildPayload = void* (*)(TriggerData* trigger, MemoryContext context, void* arg);
void* trigger_cache_lookup(int cache_id, TriggerData* trigger, BuildPayload build, void* arg);
int register_trigger_cache(const char* name);
}  // namespace detail

// Payload: a plain struct (trivially destructible: its memory is released by
// deleting its context, without running destructors), allocated by Build in the
// context it is handed. Build(TriggerData*, MemoryContext) -> Payload* may throw;
// then nothing is cached and the next firing tries again.
template <typename Payload>
class TriggerCache {
  static_assert(std::is_trivially_destructible_v<Payload>,
                "cached payloads are freed with their memory context, without destructors");

 public:
  explicit TriggerCache(const char* name) : id_(detail::register_trigger_cache(name)) {}

  template <typename Build>
  const Payload& get(TriggerData* trigger, Build&& build) {
    using Function = std::decay_t<Build>;  // a lambda, or a pointer to a function
    Function function(std::forward<Build>(build));
    auto thunk = [](TriggerData* t, MemoryContext context, void* arg) -> void* {
      return (*static_cast<Function*>(arg))(t, context);
    };
    return *static_cast<const Payload*>(detail::trigger_cache_lookup(id_, trigger, thunk, &function));
  }

 private:
  int id_;
};

// Registers the relcache callback that invalidates every TriggerCache. Called
// once from _PG_init.
void register_trigger_cache_invalidation();

// The not_an_edit=<col>[,<col>...] trigger option, shared by the updated_at and
// audit triggers: an UPDATE of a row in which at least one listed column changed
// value and no other column did is not an edit (updated_at stays, no audit row).
// Decided by the values, not by the UPDATE's SET list: naming every column with
// only a listed one changed is not an edit; a no-op UPDATE (nothing changed) and
// a change of a column added after the trigger are edits. "Changed" is IS
// DISTINCT FROM, the type's = operator (same_value above), as for changed_fields.
// Stored generated columns are not compared: their value follows from the
// others, and a BEFORE trigger does not see their new value yet.

// The option's key, and where its list of columns is split and resolved.
inline constexpr std::string_view kNotAnEditKey = "not_an_edit";

struct NotAnEditColumn {
  AttrNumber attnum;
  bool typbyval;
  int16 typlen;
  Oid collation;
  bool has_equal;  // else compared by image (a type without =)
  FmgrInfo equal;
};

// Plain data in a trigger cache's context. The compared columns: the others
// first (an edit is usually found at the first of them), then the listed ones.
struct NotAnEdit {
  int other_count;
  int listed_count;
  NotAnEditColumn* columns;  // other_count + listed_count entries
};

// Resolves the option's value (a column list, core/options.h's syntax) for the
// trigger's relation, in `context`. Throws 22023 for a malformed list, 42703
// naming the table, the column and the trigger for a missing column.
NotAnEdit* build_not_an_edit(TriggerData* trigger, const std::string& list, MemoryContext context);

// True when the UPDATE from `old_row` to `new_row` is not an edit. Deforms both
// slots. Hot path: plain PostgreSQL calls only (boundary rule 3).
bool is_not_an_edit(const NotAnEdit& rule, TupleTableSlot* old_row, TupleTableSlot* new_row);

}  // namespace chronicle::pg
