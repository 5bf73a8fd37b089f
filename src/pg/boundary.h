// The C/C++ boundary (doc/architecture.md, boundary rules 1 and 2).
//
// PostgreSQL reports errors with siglongjmp, which skips C++ destructors; a C++
// exception that reaches a PostgreSQL frame is undefined behaviour. Two tools keep
// the two worlds apart:
//
//  * CHRONICLE_FUNCTION(name) defines an SQL-callable entry point. Its body is
//    C++; any exception it lets escape is turned into ereport(ERROR) only after
//    the catch block has ended, so every destructor has run by then.
//
//  * pg_call(f) runs f, a piece of code that calls PostgreSQL, inside PG_TRY.
//    A PostgreSQL ERROR raised there becomes a C++ PgError carrying the whole
//    ErrorData; the entry point re-raises it unchanged (SQLSTATE, message,
//    detail, hint, context, table/column fields). Code inside f must not itself
//    own objects with non-trivial destructors: a longjmp out of f skips them.
//
// A PgError must never be swallowed: once PostgreSQL has raised an ERROR, the
// transaction (or subtransaction) has to be aborted, so the only correct handling
// is to let it reach the entry point and be re-raised.
#pragma once

#include "pg/postgres_headers.h"

#include <type_traits>
#include <utility>

#include "core/error.h"

namespace chronicle::pg {

// A PostgreSQL error caught by pg_call, waiting to be re-raised.
class PgError final : public std::exception {
 public:
  explicit PgError(ErrorData* data) noexcept : data_(data) {}
  const char* what() const noexcept override;
  ErrorData* data() const noexcept { return data_; }

 private:
  ErrorData* data_;  // palloc'd in the memory context current at the catch
};

namespace detail {
// Runs fn(arg) inside PG_TRY; returns the copied ErrorData of a caught ERROR, or
// nullptr. Kept out of line so that the setjmp lives in exactly one C++ frame
// that owns no objects.
ErrorData* try_postgres(void (*fn)(void*), void* arg) noexcept;

// An escaped exception, copied into palloc'd memory so that it outlives the
// exception object. Either `caught` (a PostgreSQL error caught by pg_call) or
// the fields of a chronicle::Error / std::exception are set.
struct PendingError {
  ErrorData* caught;
  int sqlcode;
  const char* message;
  const char* detail;
  const char* hint;
  const char* schema_name;
  const char* table_name;
  const char* column_name;
};

// Copies the exception being handled. Called inside the entry point's catch
// block; it never raises a PostgreSQL error itself (it allocates with
// MCXT_ALLOC_NO_OOM and returns nullptr when even that fails).
PendingError* capture_current_exception() noexcept;

// Raises the captured exception as a PostgreSQL ERROR. Called after the catch
// block has ended, so every C++ destructor has run; never returns. A PostgreSQL
// error is re-thrown as it was; a chronicle::Error goes through ereport, so the
// error context callbacks (trigger, PL/pgSQL line) add their CONTEXT lines.
[[noreturn]] void raise_pending(PendingError* pending);
}  // namespace detail

// Runs f() (which calls PostgreSQL) and returns its result; a PostgreSQL ERROR
// raised by f becomes a PgError. f owns no objects with non-trivial destructors.
template <typename F>
auto pg_call(F&& f) -> decltype(f()) {
  using R = decltype(f());
  // A C++ exception must not cross the PG_TRY frame (it would leave
  // PG_exception_stack pointing into a dead frame): the thunk parks it in `call`
  // and it is re-thrown once try_postgres has returned.
  using Result = std::conditional_t<std::is_void_v<R>, char, R>;
  static_assert(std::is_trivially_copyable_v<Result>,
                "pg_call returns plain values: a longjmp must not skip a destructor");
  struct Call {
    std::remove_reference_t<F>* f;
    Result result;
    std::exception_ptr thrown;
  } call{&f, Result{}, nullptr};
  auto thunk = [](void* arg) {
    auto* c = static_cast<Call*>(arg);
    try {
      if constexpr (std::is_void_v<R>) {
        (*c->f)();
      } else {
        c->result = (*c->f)();
      }
    } catch (...) {
      c->thrown = std::current_exception();
    }
  };
  if (ErrorData* error = detail::try_postgres(thunk, &call)) throw PgError(error);
  if (call.thrown) std::rethrow_exception(call.thrown);
  if constexpr (!std::is_void_v<R>) return call.result;
}

}  // namespace chronicle::pg

// Defines the extern "C" entry point `name` (declared with PG_FUNCTION_INFO_V1)
// whose body follows the macro. The body has the signature Datum(FunctionCallInfo).
#define CHRONICLE_FUNCTION(name)                                                       \
  static Datum name##_body(FunctionCallInfo fcinfo);                                   \
  extern "C" {                                                                         \
  PG_FUNCTION_INFO_V1(name);                                                           \
  }                                                                                    \
  extern "C" Datum name(PG_FUNCTION_ARGS) {                                            \
    ::chronicle::pg::detail::PendingError* chronicle_pending_error_ = nullptr;         \
    try {                                                                              \
      return name##_body(fcinfo);                                                      \
    } catch (...) {                                                                    \
      chronicle_pending_error_ = ::chronicle::pg::detail::capture_current_exception(); \
    }                                                                                  \
    ::chronicle::pg::detail::raise_pending(chronicle_pending_error_);                  \
  }                                                                                    \
  static Datum name##_body(FunctionCallInfo fcinfo)
