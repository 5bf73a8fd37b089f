// audit_check_options(p_table regclass, p_trigger name, p_options text[]):
// validates trigger options for enable_audit before it creates the trigger, with
// exactly the checks (and errors) of the trigger's first firing: 22023 for a
// malformed or unknown option, 42703 / 42804 for a bad column; and refuses a
// table whose name an INSERT could not store in audit_logs.table_name (22001
// for a name longer than its varchar), since every audited write would fail.
#include <string>
#include <vector>

#include "audit/config.h"
#include "audit/audit.h"
#include "pg/boundary.h"

extern "C" {
#include "access/table.h"
#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_audit_check_options) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) {
    throw Error("22004", "audit_check_options() does not accept NULL arguments");
  }
  const Oid relid = PG_GETARG_OID(0);
  Name trigger_name = PG_GETARG_NAME(1);
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(2);

  // A trigger as CREATE TRIGGER would make it, for the same checks and messages.
  Datum* elements = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  pg::pg_call([&] { deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count); });
  auto** args = static_cast<char**>(pg::pg_call([&] { return palloc0(sizeof(char*) * (count + 1)); }));
  for (int i = 0; i < count; ++i) {
    if (nulls[i]) throw Error("22004", "trigger options must not be NULL");
    args[i] = pg::pg_call([&] { return text_to_cstring(DatumGetTextPP(elements[i])); });
  }
  Trigger trigger{};
  trigger.tgname = NameStr(*trigger_name);
  trigger.tgnargs = static_cast<int16>(count);
  trigger.tgargs = args;
  TriggerData data{};
  data.type = T_TriggerData;
  data.tg_trigger = &trigger;
  data.tg_relation = pg::pg_call([&] { return table_open(relid, AccessShareLock); });

  // Throws on a bad option; the transaction's abort then closes the relation.
  MemoryContext context = pg::pg_call(
      [] { return AllocSetContextCreate(CurrentMemoryContext, "chronicle audit option check", ALLOCSET_SMALL_SIZES); });
  const audit::AuditConfig* config = audit::build_audit_config(&data, context, fcinfo->flinfo->fn_oid);
  pg::pg_call([&] {
    audit::check_table_name_fits(config->audit_schema, config->table_name);
    MemoryContextDelete(context);
    table_close(data.tg_relation, NoLock);
  });
  PG_RETURN_VOID();
}
