// changed_fields: the columns whose value IS DISTINCT FROM the old one.
#pragma once

#include "audit/config.h"

namespace chronicle::audit {

// A text[] of the names of the changed columns, in column order, leaving out
// ignored ones; '{}' when nothing changed. Compares datums with the type's =
// operator (or their binary images for types without one, see Equality).
// Hot path: plain PostgreSQL calls only (boundary rule 3).
Datum changed_fields(const AuditConfig& config, const Datum* old_values, const bool* old_nulls, const Datum* new_values,
                     const bool* new_nulls);

// '{}'::text[], for INSERT and DELETE.
Datum no_changed_fields();

// True when the two non-null values of `column` are the same (not distinct).
bool same_value(const AuditColumn& column, Datum a, Datum b);

}  // namespace chronicle::audit
