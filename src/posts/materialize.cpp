#include "posts/materialize.h"

#include "pg/boundary.h"

namespace chronicle::posts {

ReturnSetInfo* begin_materialized(FunctionCallInfo fcinfo) {
  pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
  return reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
}

}  // namespace chronicle::posts
