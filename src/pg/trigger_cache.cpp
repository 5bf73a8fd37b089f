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
      if (relation_oid == InvalidOid || entry->relation_oid == relation_oid) entry->valid = false;
    }
  }
}

HTAB* entries_of(Cache& cache) {
  if (cache.entries == nullptr) {
    HASHCTL control{};
    control.keysize = sizeof(Oid);
    control.entrysize = sizeof(Entry);
    control.hcxt = CacheMemoryContext;
    cache.entries = pg_call([&] {
      return hash_create(cache.name, 32, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    });
  }
  return cache.entries;
}

}  // namespace

int detail::register_trigger_cache(const char* name) {
  if (cache_count == kMaxCaches) throw_error(ERRCODE_INTERNAL_ERROR, "too many chronicle trigger caches");
  caches[cache_count] = Cache{name, nullptr};
  return cache_count++;
}

void* detail::trigger_cache_lookup(int cache_id, TriggerData* trigger, BuildPayload build, void* arg) {
  HTAB* entries = entries_of(caches[cache_id]);
  const Oid key = trigger->tg_trigger->tgoid;
  bool found = false;
  auto* entry = static_cast<Entry*>(pg_call([&] { return hash_search(entries, &key, HASH_ENTER, &found); }));
  if (!found) *entry = Entry{key, RelationGetRelid(trigger->tg_relation), false, nullptr, nullptr};
  if (entry->valid) return entry->payload;

  // Build under the current (per-call) context first: if build throws, the new
  // context goes away with the call's memory. Only a complete payload is moved
  // under CacheMemoryContext.
  MemoryContext context = pg_call([] {
    return AllocSetContextCreate(CurrentMemoryContext, "chronicle trigger cache entry", ALLOCSET_SMALL_SIZES);
  });
  void* payload = build(trigger, context, arg);
  pg_call([&] {
    MemoryContextSetParent(context, CacheMemoryContext);
    if (entry->context != nullptr) MemoryContextDelete(entry->context);
  });
  entry->relation_oid = RelationGetRelid(trigger->tg_relation);
  entry->context = context;
  entry->payload = payload;
  entry->valid = true;
  return payload;
}

void register_trigger_cache_invalidation() { CacheRegisterRelcacheCallback(invalidate_relation, 0); }

}  // namespace chronicle::pg
