// The module: PG_MODULE_MAGIC, the settings (GUCs) and the one relcache callback.
// One shared library serves every SQL version of the extension: SQL scripts bind
// to C symbols by name, and a symbol whose behaviour changes gets a new name
// instead of a new meaning.
#include "pg/postgres_headers.h"

#include "pg/settings.h"
#include "pg/trigger.h"

extern "C" {
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

namespace chronicle::pg {

char* setting_actor_id = nullptr;
char* setting_client_ip = nullptr;
char* setting_user_agent = nullptr;
bool setting_allow_data_loss = false;

}  // namespace chronicle::pg

void _PG_init(void) {
  using namespace chronicle::pg;
  DefineCustomStringVariable("chronicle.actor_id", "The uuid of the user an audited change is made for.",
                             "Applications run SET LOCAL chronicle.actor_id = '<uuid>' in each transaction; "
                             "audit rows then record it as user_id.",
                             &setting_actor_id, nullptr, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("chronicle.client_ip", "The client address recorded in audit rows.",
                             "When unset, audit rows record inet_client_addr().", &setting_client_ip, nullptr,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("chronicle.user_agent", "The user agent recorded in audit rows.", nullptr,
                             &setting_user_agent, nullptr, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("chronicle.allow_data_loss",
                           "Lets an extension downgrade drop a column or table that holds data.", nullptr,
                           &setting_allow_data_loss, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("chronicle");
  register_trigger_cache_invalidation();
}
