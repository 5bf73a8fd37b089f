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
// still using it (trigger_cache.cpp). A payload is good until the end of the
// transaction in which get() returned it.
#pragma once

#include "pg/postgres_headers.h"

#include <type_traits>

extern "C" {
#include "commands/trigger.h"
}

namespace chronicle::pg {

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

}  // namespace chronicle::pg
