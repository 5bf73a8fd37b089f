#include "pg/trigger_cache.h"

#include "pg/boundary.h"

extern "C" {
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace chronicle::pg {
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
  if (cache_count == kMaxCaches) throw_error(ERRCODE_INTERNAL_ERROR, "too many chronicle trigger caches");
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

}  // namespace chronicle::pg
