// Set-returning functions of the posts API materialize their rows: the
// tuplestore and its descriptor are made by InitMaterializedSRF in the
// per-query memory context, before SPI connects, and tuplestore_putvalues
// copies each row into it, so nothing returned points into SPI memory (which
// SPI_finish frees).
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "funcapi.h"
#include "utils/tuplestore.h"
}

namespace chronicle::posts {

ReturnSetInfo* begin_materialized(FunctionCallInfo fcinfo);

}  // namespace chronicle::posts
