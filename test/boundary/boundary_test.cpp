// A test-only module that drives the C/C++ boundary (src/pg) the way the
// extension's functions do, with C++ objects alive when errors are raised. It is
// built and installed by the test suites only, never shipped.
//
// live_objects() counts Tracker objects not yet destroyed: after any number of
// failing calls it must be 0, or an error skipped a destructor.
#include <atomic>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "pg/boundary.h"
#include "pg/hmac_sha256.h"
#include "pg/spi.h"

extern "C" {
#include "utils/builtins.h"

PG_MODULE_MAGIC;
}

namespace {

long live_trackers = 0;

// Owns heap memory (malloc'd through std::string/std::vector, invisible to
// PostgreSQL's memory contexts) so that a skipped destructor shows as a leak in
// both the live count and the process's RSS.
class Tracker {
 public:
  Tracker() : payload_(4096, 'x'), parts_(8, std::string(256, 'y')) { ++live_trackers; }
  ~Tracker() { --live_trackers; }
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

 private:
  std::string payload_;
  std::vector<std::string> parts_;
};

std::string text_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return {};
  char* value = chronicle::pg::pg_call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); });
  return value;
}

std::string bytea_arg(FunctionCallInfo fcinfo, int n) {
  const bytea* value = chronicle::pg::pg_call([&] { return PG_GETARG_BYTEA_PP(n); });
  return std::string(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

}  // namespace

using namespace chronicle;

// Runs `sql` through an SpiSession while Trackers are alive on the stack.
CHRONICLE_FUNCTION(boundary_spi_execute) {
  Tracker outer;
  const std::string sql = text_arg(fcinfo, 0);
  pg::SpiSession spi;
  Tracker inner;
  const uint64 rows = spi.execute(sql.c_str(), false);
  PG_RETURN_INT64(static_cast<int64>(rows));
}

// Throws chronicle::Error(sqlstate, message) with optional detail and hint.
CHRONICLE_FUNCTION(boundary_throw_error) {
  Tracker alive;
  Error error(text_arg(fcinfo, 0), text_arg(fcinfo, 1));
  if (!PG_ARGISNULL(2)) error.detail(text_arg(fcinfo, 2));
  if (!PG_ARGISNULL(3)) error.hint(text_arg(fcinfo, 3));
  throw error;
}

// Throws a C++ exception that is not chronicle's: std::bad_alloc or a
// std::runtime_error, by the name given.
CHRONICLE_FUNCTION(boundary_throw_std) {
  Tracker alive;
  const std::string kind = text_arg(fcinfo, 0);
  if (kind == "bad_alloc") throw std::bad_alloc();
  if (kind == "runtime_error") throw std::runtime_error("something C++ went wrong");
  throw 42;  // not even an exception class
}

// Raises a PostgreSQL error from inside pg_call (elog in a PostgreSQL function).
CHRONICLE_FUNCTION(boundary_pg_call_error) {
  Tracker alive;
  const std::string input = text_arg(fcinfo, 0);
  // int4in raises 22P02 / 22003 for bad input.
  const Datum value = pg::pg_call([&] { return DirectFunctionCall1(int4in, CStringGetDatum(input.c_str())); });
  PG_RETURN_DATUM(value);
}

CHRONICLE_FUNCTION(boundary_live_objects) {
  (void)fcinfo;
  PG_RETURN_INT64(live_trackers);
}

// HMAC-SHA-256(key, message) by the code that signs the extension's cursors
// (src/pg/hmac_sha256.cpp, PostgreSQL's pg_hmac_*), for sql/boundary_hmac.sql.
CHRONICLE_FUNCTION(boundary_hmac_sha256) {
  Tracker alive;
  const std::string key = bytea_arg(fcinfo, 0);
  const std::string message = bytea_arg(fcinfo, 1);
  const HmacSha256Tag tag = pg::hmac_sha256(key, message);
  bytea* result = pg::pg_call([&] {
    auto* bytes = static_cast<bytea*>(palloc(VARHDRSZ + tag.size()));
    SET_VARSIZE(bytes, VARHDRSZ + tag.size());
    memcpy(VARDATA(bytes), tag.data(), tag.size());
    return bytes;
  });
  PG_RETURN_BYTEA_P(result);
}
