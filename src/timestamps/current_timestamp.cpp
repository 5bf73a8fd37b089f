#include "timestamps/timestamps.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "pgtime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
}

namespace chronicle::timestamps {

Datum current_timestamp_as(Oid type) {
  const TimestampTz now = GetCurrentTransactionStartTimestamp();
  if (type == TIMESTAMPTZOID) return TimestampTzGetDatum(now);

  static TimestampTz converted_from = DT_NOBEGIN;
  static const pg_tz* converted_in = nullptr;
  static Datum local = 0;
  if (now != converted_from || session_timezone != converted_in) {
    // Runs in the trigger's hot path with no C++ object alive (boundary rule 3).
    local = DirectFunctionCall1(timestamptz_timestamp, TimestampTzGetDatum(now));
    converted_from = now;
    converted_in = session_timezone;
  }
  return local;
}

}  // namespace chronicle::timestamps
