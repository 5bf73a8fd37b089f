#include "pg/boundary.h"

#include <exception>
#include <new>

extern "C" {
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace chronicle::pg {

const char* PgError::what() const noexcept {
  return data_ != nullptr && data_->message != nullptr ? data_->message : "PostgreSQL error";
}

namespace detail {
namespace {

// A five-character SQLSTATE of digits and upper-case letters, or XX000.
int sqlcode_of(const std::string& state) {
  const auto valid = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); };
  if (state.size() != 5) return ERRCODE_INTERNAL_ERROR;
  for (char c : state) {
    if (!valid(c)) return ERRCODE_INTERNAL_ERROR;
  }
  return MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
}

// Copies text into palloc'd memory without ever raising a PostgreSQL error.
const char* copy_text(const char* text, std::size_t length) noexcept {
  constexpr std::size_t kMaxLength = 64 * 1024;  // an error message, not a payload
  if (length > kMaxLength) length = kMaxLength;
  auto* copy = static_cast<char*>(palloc_extended(length + 1, MCXT_ALLOC_NO_OOM));
  if (copy == nullptr) return nullptr;
  std::memcpy(copy, text, length);
  copy[length] = '\0';
  return copy;
}

const char* copy_optional(const std::string& text) noexcept {
  return text.empty() ? nullptr : copy_text(text.data(), text.size());
}

}  // namespace

ErrorData* try_postgres(void (*fn)(void*), void* arg) noexcept {
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile error = nullptr;
  // PG_TRY's block stays laid out as a statement block.
  // clang-format off
  PG_TRY();
  {
    fn(arg);
  }
  PG_CATCH();
  {
    // CopyErrorData must not run in ErrorContext; the copy lives in the
    // caller's context until the entry point re-throws it.
    MemoryContextSwitchTo(caller_context);
    error = CopyErrorData();
    FlushErrorState();
    Assert(error != nullptr && error->elevel >= ERROR);
  }
  PG_END_TRY();
  // clang-format on
  return error;
}

PendingError* capture_current_exception() noexcept {
  Assert(std::current_exception() != nullptr);  // only ever called inside a catch block
  auto* pending = static_cast<PendingError*>(
      palloc_extended(sizeof(PendingError), MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO));
  if (pending == nullptr) return nullptr;
  try {
    throw;
  } catch (const PgError& e) {
    pending->caught = e.data();
  } catch (const Error& e) {
    pending->sqlcode = sqlcode_of(e.sqlstate());
    pending->message = copy_text(e.what(), std::strlen(e.what()));
    pending->detail = copy_optional(e.detail());
    pending->hint = copy_optional(e.hint());
    pending->schema_name = copy_optional(e.schema_name());
    pending->table_name = copy_optional(e.table_name());
    pending->column_name = copy_optional(e.column_name());
  } catch (const std::bad_alloc&) {
    pending->sqlcode = ERRCODE_OUT_OF_MEMORY;
    pending->message = "out of memory";
  } catch (const std::exception& e) {
    pending->sqlcode = ERRCODE_INTERNAL_ERROR;
    pending->message = copy_text(e.what(), std::strlen(e.what()));
    pending->detail = "An unexpected C++ exception reached the chronicle entry point.";
  } catch (...) {
    pending->sqlcode = ERRCODE_INTERNAL_ERROR;
    pending->message = "unknown C++ exception";
  }
  return pending;
}

void raise_pending(PendingError* pending) {
  if (pending == nullptr) {
    ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory while reporting an error")));
  }
  if (pending->caught != nullptr) ReThrowError(pending->caught);
  // Every captured C++ exception carries a SQLSTATE (capture_current_exception
  // falls back to XX000), and an ERROR without one would read as success.
  Assert(pending->sqlcode != 0);
  ereport(ERROR, (errcode(pending->sqlcode),
                  errmsg_internal("%s", pending->message != nullptr ? pending->message : "out of memory"),
                  pending->detail != nullptr ? errdetail_internal("%s", pending->detail) : 0,
                  pending->hint != nullptr ? errhint("%s", pending->hint) : 0,
                  pending->schema_name != nullptr ? err_generic_string(PG_DIAG_SCHEMA_NAME, pending->schema_name) : 0,
                  pending->table_name != nullptr ? err_generic_string(PG_DIAG_TABLE_NAME, pending->table_name) : 0,
                  pending->column_name != nullptr ? err_generic_string(PG_DIAG_COLUMN_NAME, pending->column_name) : 0));
  pg_unreachable();
}

}  // namespace detail
}  // namespace chronicle::pg
