// A row as JSONB, equal to to_jsonb(row): built straight from the deformed
// tuple with the column metadata of AuditConfig (no text round trip, no SPI).
#pragma once

#include "audit/config.h"

namespace chronicle::audit {

// values/nulls: the relation's deformed tuple (indexed by attnum - 1).
// Allocates in CurrentMemoryContext. Hot path: plain PostgreSQL calls, no C++
// object alive, so an ERROR may longjmp through it (boundary rule 3).
Datum row_to_jsonb(const AuditConfig& config, const Datum* values, const bool* nulls);

}  // namespace chronicle::audit
