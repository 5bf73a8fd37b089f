#include "pg/spi.h"

#include <exception>

#include "pg/boundary.h"

namespace chronicle::pg {
namespace {

uint64 check_result(int code, const char* what) {
  if (code < 0) {
    throw Error(sqlstate::kInternalError, fmt::format("{} failed: {}", what, SPI_result_code_string(code)));
  }
  return SPI_processed;
}

}  // namespace

SpiSession::SpiSession() : unwinding_at_start_(std::uncaught_exceptions()), caller_context_(CurrentMemoryContext) {
  const int code = pg_call([] { return SPI_connect(); });
  if (code != SPI_OK_CONNECT) {
    throw Error(sqlstate::kInternalError, fmt::format("SPI_connect failed: {}", SPI_result_code_string(code)));
  }
}

SpiSession::~SpiSession() {
  if (std::uncaught_exceptions() > unwinding_at_start_) return;  // the abort releases it
  // Cannot raise an error on a connection we opened, and the session is the only
  // one that connects, so nothing else has finished it.
  [[maybe_unused]] const int code = SPI_finish();
  Assert(code == SPI_OK_FINISH);
}

uint64 SpiSession::execute(SPIPlanPtr plan, Datum* values, const char* nulls, bool read_only, long count) {
  const int code = pg_call([&] { return SPI_execute_plan(plan, values, nulls, read_only, count); });
  return check_result(code, "SPI_execute_plan");
}

uint64 SpiSession::execute(const char* sql, bool read_only, long count) {
  const int code = pg_call([&] { return SPI_execute(sql, read_only, count); });
  return check_result(code, "SPI_execute");
}

SPIPlanPtr prepare_saved_plan(const char* sql, int nargs, Oid* argtypes, int cursor_options) {
  SPIPlanPtr plan = pg_call([&] { return SPI_prepare_cursor(sql, nargs, argtypes, cursor_options); });
  if (plan == nullptr) {
    throw Error(sqlstate::kInternalError, fmt::format("SPI_prepare failed: {}", SPI_result_code_string(SPI_result)));
  }
  const int code = pg_call([&] { return SPI_keepplan(plan); });
  if (code != 0) throw Error(sqlstate::kInternalError, "SPI_keepplan failed");
  return plan;
}

}  // namespace chronicle::pg
