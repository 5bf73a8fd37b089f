#include "audit/audit.h"
#include "pg/trigger.h"

extern "C" {
#include "catalog/pg_type_d.h"
#include "common/jsonapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
}

namespace chronicle::audit {

namespace {

void push_string(JsonbParseState** state, char* text, size_t length) {
  // As to_jsonb's checkStringLen.
  if (length > JENTRY_OFFLENMASK) {
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("string too long to represent as jsonb string"),
                    errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
                              JENTRY_OFFLENMASK)));
  }
  JsonbValue v;
  v.type = jbvString;
  v.val.string.val = text;
  v.val.string.len = static_cast<int>(length);
  pushJsonbValue(state, WJB_VALUE, &v);
}

void push_number_text(JsonbParseState** state, char* text) {
  // to_jsonb turns a number's output into a JSON number when it is one
  // (NaN and Infinity are not) and into a string otherwise.
  const size_t length = std::strlen(text);
  if (IsValidJsonNumber(text, static_cast<int>(length))) {
    JsonbValue v;
    v.type = jbvNumeric;
    v.val.numeric = DatumGetNumeric(
        DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
    pushJsonbValue(state, WJB_VALUE, &v);
  } else {
    push_string(state, text, length);
  }
}

// Splices the JSONB `value` into the object being built, as to_jsonb does for
// a jsonb value nested in a row.
void push_jsonb(JsonbParseState** state, Jsonb* value) {
  JsonbValue v;
  if (JB_ROOT_IS_SCALAR(value)) {
    JsonbExtractScalar(&value->root, &v);
    pushJsonbValue(state, WJB_VALUE, &v);
    return;
  }
  JsonbIterator* it = JsonbIteratorInit(&value->root);
  JsonbIteratorToken token;
  while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
    const bool bracket = token == WJB_BEGIN_ARRAY || token == WJB_END_ARRAY || token == WJB_BEGIN_OBJECT ||
                         token == WJB_END_OBJECT;
    pushJsonbValue(state, token, bracket ? nullptr : &v);
  }
}

void push_value(JsonbParseState** state, const AuditColumn& column, Datum value) {
  JsonbValue v;
  switch (column.kind) {
    case JsonKind::Bool:
      v.type = jbvBool;
      v.val.boolean = DatumGetBool(value);
      pushJsonbValue(state, WJB_VALUE, &v);
      return;
    case JsonKind::Integer: {
      const int64 n = column.base_type == INT2OID   ? DatumGetInt16(value)
                      : column.base_type == INT4OID ? DatumGetInt32(value)
                                                    : DatumGetInt64(value);
      v.type = jbvNumeric;
      v.val.numeric = int64_to_numeric(n);
      pushJsonbValue(state, WJB_VALUE, &v);
      return;
    }
    case JsonKind::Numeric: {
      Numeric n = DatumGetNumeric(value);  // detoasted, with a 4-byte header
      if (numeric_is_nan(n) || numeric_is_inf(n)) {
        char* text = OutputFunctionCall(const_cast<FmgrInfo*>(&column.output), value);
        push_string(state, text, std::strlen(text));
      } else {
        v.type = jbvNumeric;
        v.val.numeric = n;
        pushJsonbValue(state, WJB_VALUE, &v);
      }
      return;
    }
    case JsonKind::Float:
      // The output honours extra_float_digits, exactly as to_jsonb's does.
      push_number_text(state, OutputFunctionCall(const_cast<FmgrInfo*>(&column.output), value));
      return;
    case JsonKind::DateTime: {
      char* text = JsonEncodeDateTime(nullptr, value, column.base_type, nullptr);
      push_string(state, text, std::strlen(text));
      return;
    }
    case JsonKind::Text: {
      text* t = DatumGetTextPP(value);
      push_string(state, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
      return;
    }
    case JsonKind::Output: {
      char* text = OutputFunctionCall(const_cast<FmgrInfo*>(&column.output), value);
      push_string(state, text, std::strlen(text));
      return;
    }
    case JsonKind::ToJsonb: {
      Datum jsonb = FunctionCall1Coll(const_cast<FmgrInfo*>(&column.to_jsonb), column.collation, value);
      push_jsonb(state, DatumGetJsonbP(jsonb));
      return;
    }
  }
}

// A row as JSONB, equal to to_jsonb(row): built straight from the deformed
// tuple with the column metadata of AuditConfig (no text round trip, no SPI).
// values/nulls: the relation's deformed tuple (indexed by attnum - 1).
// Allocates in CurrentMemoryContext. Hot path: plain PostgreSQL calls, no C++
// object alive, so an ERROR may longjmp through it (boundary rule 3).
Datum row_to_jsonb(const AuditConfig& config, const Datum* values, const bool* nulls) {
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  for (int i = 0; i < config.column_count; ++i) {
    const AuditColumn& column = config.columns[i];
    JsonbValue key;
    key.type = jbvString;
    key.val.string.val = const_cast<char*>(column.name);
    key.val.string.len = static_cast<int>(std::strlen(column.name));
    pushJsonbValue(&state, WJB_KEY, &key);
    const int index = column.attnum - 1;
    if (nulls[index]) {
      JsonbValue null_value;
      null_value.type = jbvNull;
      pushJsonbValue(&state, WJB_VALUE, &null_value);
    } else {
      push_value(&state, column, values[index]);
    }
  }
  JsonbValue* result = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
  return JsonbPGetDatum(JsonbValueToJsonb(result));
}

// True when the two non-null values of `column` are the same (not distinct).
bool same_value(const AuditColumn& column, Datum a, Datum b) {
  return pg::same_value(column.equality == Equality::Operator ? &column.equal : nullptr, column.collation,
                        column.typbyval, column.typlen, a, b);
}

// '{}'::text[], for INSERT and DELETE.
Datum no_changed_fields() { return PointerGetDatum(construct_empty_array(TEXTOID)); }

// changed_fields: a text[] of the names of the columns whose value IS DISTINCT
// FROM the old one, in column order, leaving out ignored ones; '{}' when
// nothing changed. Compares datums with the type's = operator (or their binary
// images for types without one, see Equality). Hot path: plain PostgreSQL
// calls only (boundary rule 3).
Datum changed_fields(const AuditConfig& config, const Datum* old_values, const bool* old_nulls, const Datum* new_values,
                     const bool* new_nulls) {
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * (config.column_count + 1)));
  int count = 0;
  for (int i = 0; i < config.column_count; ++i) {
    const AuditColumn& column = config.columns[i];
    if (column.ignored) continue;
    const int index = column.attnum - 1;
    const bool distinct = old_nulls[index] != new_nulls[index] ||
                          (!old_nulls[index] && !same_value(column, old_values[index], new_values[index]));
    if (distinct) names[count++] = column.name_text;
  }
  if (count == 0) return no_changed_fields();
  return PointerGetDatum(construct_array(names, count, TEXTOID, -1, false, TYPALIGN_INT));
}

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
