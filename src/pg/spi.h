// RAII over an SPI connection, for C++ code that runs queries.
//
// SPI_connect in the constructor; SPI_finish in the destructor on a normal exit.
// When the destructor runs because an exception is unwinding, it leaves the
// connection alone: the exception is about to become an ERROR, and the
// (sub)transaction abort releases the connection and its memory (AtEOXact_SPI /
// AtEOSubXact_SPI). Calling SPI_finish there would free executor state that the
// abort still walks.
//
// Values that must outlive the session (returned Datums, tuples put in a
// tuplestore) are copied into the caller's memory context before it ends:
// SPI_finish frees everything allocated while connected.
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "executor/spi.h"
}

namespace chronicle::pg {

class SpiSession {
 public:
  SpiSession();
  ~SpiSession();
  SpiSession(const SpiSession&) = delete;
  SpiSession& operator=(const SpiSession&) = delete;

  // Runs a saved plan; returns SPI_processed. Throws PgError for an error raised
  // by the query (the SQLSTATE is the query's own: 23505 stays 23505).
  uint64 execute(SPIPlanPtr plan, Datum* values, const char* nulls, bool read_only, long count = 0);

  // Runs a query text with no parameters (cold paths, tests).
  uint64 execute(const char* sql, bool read_only, long count = 0);

  // The result of the last execute (SPI_tuptable).
  SPITupleTable* result() const { return SPI_tuptable; }

  // The memory context that was current before SPI_connect: allocate results
  // that must survive the session here (SPI_palloc does the same).
  MemoryContext caller_context() const { return caller_context_; }

 private:
  int unwinding_at_start_;
  MemoryContext caller_context_;
};

// Prepares `sql` once and keeps the plan for the life of the backend (SPI_keepplan).
// The plan cache re-plans it when a table it uses changes. Requires a connection.
// cursor_options: CURSOR_OPT_* flags for SPI_prepare_cursor, e.g.
// CURSOR_OPT_GENERIC_PLAN for a query whose one generic plan is known to be right
// for every parameter value (then no call pays for planning).
SPIPlanPtr prepare_saved_plan(const char* sql, int nargs, Oid* argtypes, int cursor_options = 0);

}  // namespace chronicle::pg
