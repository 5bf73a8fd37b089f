#include "audit/changes.h"

#include "pg/equality.h"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/array.h"
}

namespace chronicle::audit {

bool same_value(const AuditColumn& column, Datum a, Datum b) {
  return pg::same_value(column.equality == Equality::Operator ? &column.equal : nullptr, column.collation,
                        column.typbyval, column.typlen, a, b);
}

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

Datum no_changed_fields() { return PointerGetDatum(construct_empty_array(TEXTOID)); }

}  // namespace chronicle::audit
