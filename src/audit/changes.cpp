#include "audit/changes.h"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/datum.h"
}

namespace chronicle::audit {

bool same_value(const AuditColumn& column, Datum a, Datum b) {
  // Identical images are equal under every = operator PostgreSQL ships (NaN = NaN
  // included), and an unchanged TOASTed value keeps its pointer: no detoasting.
  if (datumIsEqual(a, b, column.typbyval, column.typlen)) return true;
  if (column.equality == Equality::Operator) {
    return DatumGetBool(FunctionCall2Coll(const_cast<FmgrInfo*>(&column.equal), column.collation, a, b));
  }
  if (column.typlen != -1) return false;  // fixed-length images differ
  // A varlena without =: compare the detoasted, decompressed bytes.
  struct varlena* x = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(a)));
  struct varlena* y = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(b)));
  const size_t length = VARSIZE_ANY_EXHDR(x);
  return length == VARSIZE_ANY_EXHDR(y) && std::memcmp(VARDATA_ANY(x), VARDATA_ANY(y), length) == 0;
}

Datum changed_fields(const AuditConfig& config, const Datum* old_values, const bool* old_nulls,
                     const Datum* new_values, const bool* new_nulls) {
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

Datum no_changed_fields() { return PointerGetDatum(construct_empty_array(TEXTOID)); }

}  // namespace chronicle::audit
