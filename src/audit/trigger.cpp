#include <string>
#include <vector>

#include "audit/audit.h"
#include "pg/boundary.h"
#include "pg/trigger.h"

extern "C" {
#include "access/table.h"
#include "catalog/pg_type_d.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
}

// audit_trigger_function(): writes one audit_logs row per inserted, updated or
// deleted row (README.md, "The audit log"). Two ways to fire it:
//  * AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW: one audit row per firing;
//  * AFTER ... FOR EACH STATEMENT REFERENCING OLD TABLE AS o NEW TABLE AS n:
//    the audit rows of the whole statement in one pass, written in batches
//    (one heap multi-insert per batch). Same rows, same order as row mode.

namespace chronicle::audit {
namespace {

constexpr const char* kUsage =
    "AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, or FOR EACH STATEMENT with REFERENCING OLD TABLE / NEW TABLE";
constexpr pg::TriggerShape kRowShape{"audit_trigger_function", pg::Timing::After, pg::Level::Row,
                                     pg::kInsert | pg::kUpdate | pg::kDelete, kUsage};
constexpr pg::TriggerShape kStatementShape{"audit_trigger_function", pg::Timing::After, pg::Level::Statement,
                                           pg::kInsert | pg::kUpdate | pg::kDelete, kUsage};

// Rows buffered per heap multi-insert in statement mode.
constexpr int kBatchRows = 500;

pg::TriggerCache<AuditConfig> cache("chronicle audit triggers");

Operation operation_of(pg::Event event) {
  return event == pg::kInsert ? Operation::Insert : event == pg::kUpdate ? Operation::Update : Operation::Delete;
}

// An UPDATE of the row that option not_an_edit= says is not an edit: no audit row.
bool not_an_edit(const AuditConfig& config, TupleTableSlot* old_row, TupleTableSlot* new_row) {
  return config.not_an_edit != nullptr && pg::is_not_an_edit(*config.not_an_edit, old_row, new_row);
}

// Row mode. Hot path: no C++ object with a destructor is alive (boundary rule 3).
void audit_row(TriggerData* trigger, const AuditConfig& config, const ChangeContext& context, Operation operation) {
  TupleTableSlot* old_slot = operation == Operation::Insert ? nullptr : trigger->tg_trigslot;
  TupleTableSlot* new_slot = operation == Operation::Insert   ? trigger->tg_trigslot
                             : operation == Operation::Update ? trigger->tg_newslot
                                                              : nullptr;
  AuditSink* kept = acquire_row_sink(config);
  AuditSink own;
  AuditSink* sink = kept;
  if (sink == nullptr) {
    open_sink(&own, config, 1);
    sink = &own;
  }
  MemoryContext old = MemoryContextSwitchTo(sink_row_context(sink));
  AuditRow row;
  fill_audit_row(config, context, operation, old_slot, new_slot, &row);
  add_audit_row(sink, row);
  MemoryContextSwitchTo(old);
  if (kept != nullptr) {
    release_row_sink(kept);
  } else {
    close_sink(&own);
  }
}

// A read pointer of our own, at the start of a transition table (another
// trigger may have read the same table already).
void rewind(Tuplestorestate* table) {
  const int pointer = tuplestore_alloc_read_pointer(table, EXEC_FLAG_REWIND);
  tuplestore_select_read_pointer(table, pointer);
  tuplestore_rescan(table);
}

// Statement mode. Hot path: no C++ object with a destructor is alive (boundary rule 3).
// An UPDATE's old and new images are paired by position: PostgreSQL appends
// each updated row's two images to the transition tables together, so the n-th
// old row is the n-th new row's before-image, even when the UPDATE changed the
// primary key (which is why the key is not looked up). Returns the number of
// audit rows written.
uint64 audit_statement(TriggerData* trigger, const AuditConfig& config, const ChangeContext& context,
                       Operation operation) {
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  Tuplestorestate* old_table = operation == Operation::Insert ? nullptr : trigger->tg_oldtable;
  Tuplestorestate* new_table = operation == Operation::Delete ? nullptr : trigger->tg_newtable;
  TupleTableSlot* old_slot = old_table != nullptr ? MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple) : nullptr;
  TupleTableSlot* new_slot = new_table != nullptr ? MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple) : nullptr;
  if (old_table != nullptr) rewind(old_table);
  if (new_table != nullptr) rewind(new_table);

  AuditSink sink;
  open_sink(&sink, config, kBatchRows);
  uint64 rows = 0;
  for (;;) {
    CHECK_FOR_INTERRUPTS();
    const bool have_old = old_table != nullptr && tuplestore_gettupleslot(old_table, true, false, old_slot);
    const bool have_new = new_table != nullptr && tuplestore_gettupleslot(new_table, true, false, new_slot);
    if (!have_old && !have_new) break;
    if (old_table != nullptr && new_table != nullptr && have_old != have_new) {
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                      errmsg("the transition tables of %s hold different numbers of rows", config.description)));
    }
    if (operation == Operation::Update && not_an_edit(config, old_slot, new_slot)) continue;
    MemoryContext old = MemoryContextSwitchTo(sink_row_context(&sink));
    AuditRow row;
    fill_audit_row(config, context, operation, have_old ? old_slot : nullptr, have_new ? new_slot : nullptr, &row);
    add_audit_row(&sink, row);  // may write the batch and reset the row context
    MemoryContextSwitchTo(old);
    ++rows;
  }
  close_sink(&sink);
  if (old_slot != nullptr) ExecDropSingleTupleTableSlot(old_slot);
  if (new_slot != nullptr) ExecDropSingleTupleTableSlot(new_slot);
  return rows;
}

void require_transition_tables(TriggerData* trigger, Operation operation) {
  const bool needs_old = operation != Operation::Insert;
  const bool needs_new = operation != Operation::Delete;
  if ((needs_old && trigger->tg_oldtable == nullptr) || (needs_new && trigger->tg_newtable == nullptr)) {
    throw Error(sqlstate::kTriggerProtocolViolated, fmt::format("audit_trigger_function() must be fired {}", kUsage))
        .detail(fmt::format("{} fired it FOR EACH STATEMENT without the {} transition table{}.",
                            pg::describe_trigger(trigger),
                            needs_old && needs_new ? "OLD and NEW"
                            : needs_old            ? "OLD"
                                                   : "NEW",
                            needs_old && needs_new ? "s" : ""))
        .hint(fmt::format("Add REFERENCING {}{}{} to the CREATE TRIGGER statement.",
                          needs_old ? "OLD TABLE AS old_rows" : "", needs_old && needs_new ? " " : "",
                          needs_new ? "NEW TABLE AS new_rows" : ""));
  }
}

void require_primary_key(TriggerData* trigger, const AuditConfig& config) {
  if (config.primary_key_count > 0) return;
  Relation rel = trigger->tg_relation;
  throw Error(sqlstate::kObjectNotInPrerequisiteState,
              fmt::format("statement-level audit of an UPDATE needs a primary key on table \"{}\"",
                          RelationGetRelationName(rel)))
      .detail(fmt::format("{} audits an UPDATE per statement, pairing each row's old and new image; "
                          "that needs rows identified by a primary key.",
                          pg::describe_trigger(trigger)))
      .hint("Add a primary key, or audit the table FOR EACH ROW.");
}

}  // namespace
}  // namespace chronicle::audit

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_audit_trigger_function) {
  const bool statement = CALLED_AS_TRIGGER(fcinfo) &&
                         !TRIGGER_FIRED_FOR_ROW(reinterpret_cast<TriggerData*>(fcinfo->context)->tg_event);
  TriggerData* trigger = pg::require_trigger(fcinfo, statement ? audit::kStatementShape : audit::kRowShape);
  const audit::Operation operation = audit::operation_of(pg::event_of(trigger));
  const Oid function = fcinfo->flinfo->fn_oid;
  const auto& config = audit::cache.get(trigger, [function](TriggerData* t, MemoryContext context) {
    return audit::build_audit_config(t, context, function);
  });
  // A row that is not an edit is left before the settings are read: it writes nothing.
  if (!statement && operation == audit::Operation::Update &&
      audit::not_an_edit(config, trigger->tg_trigslot, trigger->tg_newslot)) {
    return PointerGetDatum(nullptr);
  }
  const audit::ChangeContext context = audit::current_change_context();
  if (!statement) {
    audit::audit_row(trigger, config, context, operation);
  } else {
    audit::require_transition_tables(trigger, operation);
    if (operation == audit::Operation::Update) audit::require_primary_key(trigger, config);
    audit::audit_statement(trigger, config, context, operation);
  }
  return PointerGetDatum(nullptr);
}

// audit_check_options(p_table regclass, p_trigger name, p_options text[]):
// validates trigger options for enable_audit before it creates the trigger, with
// exactly the checks (and errors) of the trigger's first firing: 22023 for a
// malformed or unknown option, 42703 / 42804 for a bad column; and refuses a
// table whose name an INSERT could not store in audit_logs.table_name (22001
// for a name longer than its varchar), since every audited write would fail.

CHRONICLE_FUNCTION(chronicle_audit_check_options) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) {
    throw Error(sqlstate::kNullValueNotAllowed, "audit_check_options() does not accept NULL arguments");
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
    if (nulls[i]) throw Error(sqlstate::kNullValueNotAllowed, "trigger options must not be NULL");
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
