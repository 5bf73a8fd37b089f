// Checks that a trigger function is fired the way it was written for, and
// resolves the columns its arguments name. Misuse is reported with the SQLSTATEs
// of CONTRACT.md: 39P01 for the wrong call, 42703 / 42804 for a bad column.
#pragma once

#include "pg/postgres_headers.h"

#include <initializer_list>

extern "C" {
#include "commands/trigger.h"
#include "utils/rel.h"
}

namespace chronicle::pg {

enum class Timing { Before, After };
enum class Level { Row, Statement };

// Trigger events as a bit set.
enum Event : unsigned { kInsert = 1, kUpdate = 2, kDelete = 4 };

// What a trigger function accepts. `usage` completes the sentence
// "<function>() must be fired ...", e.g. "BEFORE UPDATE FOR EACH ROW".
struct TriggerShape {
  const char* function;
  Timing timing;
  Level level;
  unsigned events;
  const char* usage;
};

// Returns the TriggerData of this call, or throws 39P01 when the function was
// not called by the trigger manager or was fired in a way `shape` does not allow.
TriggerData* require_trigger(FunctionCallInfo fcinfo, const TriggerShape& shape);

// The event of this firing (one of Event).
Event event_of(const TriggerData* trigger);

// The attribute number of the live column `name` of the trigger's relation, or a
// 42703 error that names the table, the column and the trigger.
AttrNumber find_column(const TriggerData* trigger, const char* name);

// Throws 42804 naming the table, column and trigger unless column `attnum` is of
// one of `types` (exactly: a domain over one of them is refused too, since a
// BEFORE trigger's assignment would bypass the domain's checks).
void require_column_type(const TriggerData* trigger, AttrNumber attnum, std::initializer_list<Oid> types,
                         const char* expected);

// The name of the schema of `rel` ("" if it was dropped concurrently).
std::string relation_schema(Relation rel);

// "trigger \"name\" on table \"schema.table\"", for messages.
std::string describe_trigger(const TriggerData* trigger);

}  // namespace chronicle::pg
