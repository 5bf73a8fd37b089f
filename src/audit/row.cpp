#include "audit/row_jsonb.h"

extern "C" {
#include "common/jsonapi.h"
#include "utils/builtins.h"
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

}  // namespace

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

}  // namespace chronicle::audit
