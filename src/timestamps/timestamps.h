// The timestamp triggers (README.md, "Timestamps"): updated_at.cpp
// (update_updated_at_column) and published_at.cpp (set_published_at), which
// share current_timestamp.cpp, as the audit sink does for created_at.
#pragma once

#include "pg/postgres_headers.h"

namespace chronicle::timestamps {

// CURRENT_TIMESTAMP as a Datum of a timestamp or timestamptz column: the
// transaction's start time (what CURRENT_TIMESTAMP returns), converted to
// `type` (TIMESTAMPOID or TIMESTAMPTZOID) the way an assignment cast would: a
// timestamp column gets the local time of the session's TimeZone. The
// conversion is remembered for the transaction and time zone, since a bulk
// statement asks for it once per row.
Datum current_timestamp_as(Oid type);

}  // namespace chronicle::timestamps
