// Argument checks shared by the posts API: NULL where a value is required is
// 22004, a negative count 22023, each naming the parameter.
#pragma once

#include "pg/postgres_headers.h"

namespace chronicle::posts {

// Throws 22004 when argument `index` (named `name`) is NULL.
void require_not_null(FunctionCallInfo fcinfo, int index, const char* name);

// Argument `index` (int4) as a row count: 22023 when negative; -1 when NULL
// (SQL's LIMIT NULL, no limit) if null_means_all, else 22004.
int64 count_argument(FunctionCallInfo fcinfo, int index, const char* name, bool null_means_all);

// The text of a uuid, for messages.
std::string uuid_text(Datum uuid);

}  // namespace chronicle::posts
