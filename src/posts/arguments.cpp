#include "posts/arguments.h"

#include "pg/boundary.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/uuid.h"
}

namespace chronicle::posts {

void require_not_null(FunctionCallInfo fcinfo, int index, const char* name) {
  if (PG_ARGISNULL(index)) throw Error("22004", fmt::format("{} must not be NULL", name));
}

int64 count_argument(FunctionCallInfo fcinfo, int index, const char* name, bool null_means_all) {
  if (PG_ARGISNULL(index)) {
    if (null_means_all) return -1;
    require_not_null(fcinfo, index, name);
  }
  const int32 value = PG_GETARG_INT32(index);
  if (value < 0) {
    throw Error(sqlstate::kInvalidParameterValue, fmt::format("{} must not be negative, got {}", name, value));
  }
  return value;
}

std::string uuid_text(Datum uuid) {
  const char* text = pg::pg_call([&] { return DatumGetCString(DirectFunctionCall1(uuid_out, uuid)); });
  return text;
}

}  // namespace chronicle::posts
