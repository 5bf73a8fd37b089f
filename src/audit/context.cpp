#include "audit/audit.h"

#include <string>

#include "core/uuid.h"
#include "pg/boundary.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/memutils.h"
#include "utils/uuid.h"
}

namespace chronicle::audit {
namespace {

// The settings, defined by define_settings. Unset or set to '': nullptr or empty.
char* setting_actor_id = nullptr;    // chronicle.actor_id
char* setting_client_ip = nullptr;   // chronicle.client_ip
char* setting_user_agent = nullptr;  // chronicle.user_agent

bool is_set(const char* setting) { return setting != nullptr && setting[0] != '\0'; }

// A setting's text and the datum parsed from it, kept in TopMemoryContext so a
// bulk statement parses it once, not once per row.
struct ParsedSetting {
  std::string text;
  Datum value = 0;
  bool valid = false;
};

ParsedSetting actor_cache;
ParsedSetting ip_cache;
ParsedSetting agent_cache;
bool client_addr_known = false;
bool client_addr_null = true;
Datum client_addr = 0;

template <typename Parse>
Datum cached(ParsedSetting& cache, const char* text, Parse&& parse) {
  if (cache.valid && cache.text == text) return cache.value;
  const Datum value = parse(text);  // may throw; the cache stays as it was
  if (cache.valid) {
    void* previous = DatumGetPointer(cache.value);
    pg::pg_call([&] { pfree(previous); });
  }
  cache.text = text;
  cache.value = value;
  cache.valid = true;
  return value;
}

Datum parse_actor(const char* text) {
  const auto uuid = parse_uuid(text);
  if (!uuid) {
    throw Error(sqlstate::kInvalidTextRepresentation, fmt::format("invalid input syntax for type uuid: \"{}\"", text))
        .detail("chronicle.actor_id must be the uuid of the user making the change.")
        .hint("SET LOCAL chronicle.actor_id = '<uuid>', or RESET it.");
  }
  return pg::pg_call([&] {
    auto* value = static_cast<pg_uuid_t*>(MemoryContextAlloc(TopMemoryContext, sizeof(pg_uuid_t)));
    std::memcpy(value->data, uuid->data(), UUID_LEN);
    return UUIDPGetDatum(value);
  });
}

Datum parse_ip(const char* text) {
  return pg::pg_call([&] {
    Datum parsed = DirectFunctionCall1(inet_in, CStringGetDatum(text));
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    Datum copy = PointerGetDatum(PG_DETOAST_DATUM_COPY(parsed));
    MemoryContextSwitchTo(old);
    return copy;
  });
}

Datum parse_agent(const char* text) {
  return pg::pg_call([&] {
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    Datum value = PointerGetDatum(cstring_to_text(text));
    MemoryContextSwitchTo(old);
    return value;
  });
}

// inet_client_addr() does not change during a session: asked once.
void resolve_client_addr() {
  if (client_addr_known) return;
  pg::pg_call([&] {
    LOCAL_FCINFO(call, 0);
    InitFunctionCallInfoData(*call, nullptr, 0, InvalidOid, nullptr, nullptr);
    Datum value = inet_client_addr(call);
    client_addr_null = call->isnull;
    if (!client_addr_null) {
      MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
      client_addr = PointerGetDatum(PG_DETOAST_DATUM_COPY(value));
      MemoryContextSwitchTo(old);
    }
  });
  client_addr_known = true;
}

}  // namespace

void define_settings() {
  DefineCustomStringVariable("chronicle.actor_id", "The uuid of the user an audited change is made for.",
                             "Applications run SET LOCAL chronicle.actor_id = '<uuid>' in each transaction; "
                             "audit rows then record it as user_id.",
                             &setting_actor_id, nullptr, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("chronicle.client_ip", "The client address recorded in audit rows.",
                             "When unset, audit rows record inet_client_addr().", &setting_client_ip, nullptr,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("chronicle.user_agent", "The user agent recorded in audit rows.", nullptr,
                             &setting_user_agent, nullptr, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

ChangeContext current_change_context() {
  ChangeContext context{};
  bool own_ip = false;
  if (is_set(setting_actor_id)) {
    context.has_actor = true;
    context.actor = cached(actor_cache, setting_actor_id, parse_actor);
  }
  if (is_set(setting_client_ip)) {
    context.has_ip = true;
    context.ip = cached(ip_cache, setting_client_ip, parse_ip);
    own_ip = true;
  } else {
    resolve_client_addr();  // kept for the session, never freed: no copy
    context.has_ip = !client_addr_null;
    context.ip = client_addr;
  }
  if (is_set(setting_user_agent)) {
    context.has_agent = true;
    context.agent = cached(agent_cache, setting_user_agent, parse_agent);
  }
  // The firing's own copies, in its memory (the current context): the cache
  // frees a value when its setting changes, and user code that runs during
  // this firing (a CHECK constraint or index expression on audit_logs) may SET
  // chronicle.actor_id and write an audited row, whose nested firing would then
  // free the value this firing's buffered rows still hold. A uuid, an inet and
  // a short text: three small pallocs per firing, not per row.
  if (context.has_actor || own_ip || context.has_agent) {
    pg::pg_call([&] {
      if (context.has_actor) context.actor = datumCopy(context.actor, false, UUID_LEN);
      if (own_ip) context.ip = datumCopy(context.ip, false, -1);
      if (context.has_agent) context.agent = datumCopy(context.agent, false, -1);
    });
  }
  return context;
}

}  // namespace chronicle::audit
