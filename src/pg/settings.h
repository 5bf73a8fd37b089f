// chronicle's settings (GUCs), defined in _PG_init. A string setting that is
// unset or set to '' is nullptr or empty.
#pragma once

namespace chronicle::pg {

extern char* setting_actor_id;        // chronicle.actor_id
extern char* setting_client_ip;       // chronicle.client_ip
extern char* setting_user_agent;      // chronicle.user_agent
extern bool setting_allow_data_loss;  // chronicle.allow_data_loss

}  // namespace chronicle::pg
