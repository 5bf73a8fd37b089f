// Who made a change and from where: chronicle.actor_id, chronicle.client_ip and
// chronicle.user_agent with the fallbacks of CONTRACT.md.
#pragma once

#include "pg/postgres_headers.h"

namespace chronicle::audit {

struct ChangeContext {
  bool has_actor;  // chronicle.actor_id is set
  Datum actor;     // its uuid
  bool has_ip;
  Datum ip;  // chronicle.client_ip, else inet_client_addr()
  bool has_agent;
  Datum agent;  // chronicle.user_agent as text
};

// Reads the settings once per firing. Throws 22P02 when chronicle.actor_id is
// set but not a uuid; a malformed chronicle.client_ip is inet's own 22P02.
// The settings are parsed once per value; the datums returned are copies in
// the current memory context (the firing's), so a nested firing that changes
// a setting cannot free what this firing still uses.
ChangeContext current_change_context();

}  // namespace chronicle::audit
