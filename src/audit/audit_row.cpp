#include "audit/audit_row.h"

#include "audit/changes.h"
#include "audit/row_jsonb.h"

extern "C" {
#include "utils/datum.h"
}

namespace chronicle::audit {
namespace {

// COALESCE(NEW.column, OLD.column) for a uuid column, copied out of the slots.
bool coalesce_uuid(AttrNumber attnum, TupleTableSlot* new_slot, TupleTableSlot* old_slot, Datum* value) {
  if (attnum == 0) return false;
  for (TupleTableSlot* slot : {new_slot, old_slot}) {
    if (slot != nullptr && !slot->tts_isnull[attnum - 1]) {
      *value = datumCopy(slot->tts_values[attnum - 1], false, 16);
      return true;
    }
  }
  return false;
}

}  // namespace

void fill_audit_row(const AuditConfig& config, const ChangeContext& context, Operation operation,
                    TupleTableSlot* old_slot, TupleTableSlot* new_slot, AuditRow* row) {
  *row = AuditRow{};
  row->operation = operation == Operation::Insert ? "INSERT" : operation == Operation::Update ? "UPDATE" : "DELETE";
  if (old_slot != nullptr) slot_getallattrs(old_slot);
  if (new_slot != nullptr) slot_getallattrs(new_slot);

  row->old_data_null = old_slot == nullptr;
  if (old_slot != nullptr) row->old_data = row_to_jsonb(config, old_slot->tts_values, old_slot->tts_isnull);
  row->new_data_null = new_slot == nullptr;
  if (new_slot != nullptr) row->new_data = row_to_jsonb(config, new_slot->tts_values, new_slot->tts_isnull);

  row->changed_fields = old_slot != nullptr && new_slot != nullptr
                            ? changed_fields(config, old_slot->tts_values, old_slot->tts_isnull, new_slot->tts_values,
                                             new_slot->tts_isnull)
                            : no_changed_fields();

  row->record_id_null = !coalesce_uuid(config.record_id, new_slot, old_slot, &row->record_id);
  if (context.has_actor) {
    row->user_id = context.actor;
    row->user_id_null = false;
  } else {
    row->user_id_null = !coalesce_uuid(config.user_id, new_slot, old_slot, &row->user_id);
  }
  row->ip_address = context.ip;
  row->ip_address_null = !context.has_ip;
  row->user_agent = context.agent;
  row->user_agent_null = !context.has_agent;
}

}  // namespace chronicle::audit
