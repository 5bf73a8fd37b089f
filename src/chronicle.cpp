// The module: PG_MODULE_MAGIC, _PG_init (every setting, defined by its feature,
// and the relcache callback of the trigger caches).
// One shared library serves every SQL version of the extension: SQL scripts bind
// to C symbols by name, and a symbol whose behaviour changes gets a new name
// instead of a new meaning.
#include "pg/postgres_headers.h"

#include "audit/audit.h"
#include "pg/trigger.h"

extern "C" {
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

namespace {

// chronicle.allow_data_loss is read by the version scripts' downgrade steps
// (current_setting), not by the library: the module defines it so that it is
// a known, typed setting.
bool setting_allow_data_loss = false;

}  // namespace

void _PG_init(void) {
  chronicle::audit::define_settings();
  DefineCustomBoolVariable("chronicle.allow_data_loss",
                           "Lets an extension downgrade drop a column or table that holds data.", nullptr,
                           &setting_allow_data_loss, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("chronicle");
  chronicle::pg::register_trigger_cache_invalidation();
}
