// The not_an_edit=<col>[,<col>...] trigger option, shared by the updated_at and
// audit triggers: an UPDATE of a row in which at least one listed column changed
// value and no other column did is not an edit (updated_at stays, no audit row).
// Decided by the values, not by the UPDATE's SET list: naming every column with
// only a listed one changed is not an edit; a no-op UPDATE (nothing changed) and
// a change of a column added after the trigger are edits. "Changed" is IS
// DISTINCT FROM, the type's = operator (pg/equality.h), as for changed_fields.
// Stored generated columns are not compared: their value follows from the
// others, and a BEFORE trigger does not see their new value yet.
#pragma once

#include "pg/postgres_headers.h"

#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include "commands/trigger.h"
#include "executor/tuptable.h"
}

namespace chronicle::pg {

// The option's key, and where its list of columns is split and resolved.
inline constexpr std::string_view kNotAnEditKey = "not_an_edit";

struct NotAnEditColumn {
  AttrNumber attnum;
  bool typbyval;
  int16 typlen;
  Oid collation;
  bool has_equal;  // else compared by image (a type without =)
  FmgrInfo equal;
};

// Plain data in a trigger cache's context. The compared columns: the others
// first (an edit is usually found at the first of them), then the listed ones.
struct NotAnEdit {
  int other_count;
  int listed_count;
  NotAnEditColumn* columns;  // other_count + listed_count entries
};

// Resolves the option's value (a column list, core/options.h's syntax) for the
// trigger's relation, in `context`. Throws 22023 for a malformed list, 42703
// naming the table, the column and the trigger for a missing column.
NotAnEdit* build_not_an_edit(TriggerData* trigger, const std::string& list, MemoryContext context);

// True when the UPDATE from `old_row` to `new_row` is not an edit. Deforms both
// slots. Hot path: plain PostgreSQL calls only (boundary rule 3).
bool is_not_an_edit(const NotAnEdit& rule, TupleTableSlot* old_row, TupleTableSlot* new_row);

}  // namespace chronicle::pg
