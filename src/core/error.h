// chronicle::Error: the one exception type that C++ code throws for an error the
// user should see. It carries what PostgreSQL's ErrorData would (SQLSTATE, message,
// detail, hint, and the table/column the error is about) without including any
// PostgreSQL header, so src/core stays testable on its own. src/pg turns it into
// an ereport(ERROR) after the C++ stack has unwound.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace chronicle {

class Error : public std::runtime_error {
 public:
  // sqlstate: five characters, e.g. "22023".
  Error(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}

  // Builders for the optional fields: `throw Error(...).detail(...).hint(...)`
  // on a temporary, or `e.detail(...)` on a named error.
  Error& detail(std::string text) & {
    detail_ = std::move(text);
    return *this;
  }
  Error& hint(std::string text) & {
    hint_ = std::move(text);
    return *this;
  }
  Error& table(std::string schema, std::string name) & {
    schema_ = std::move(schema);
    table_ = std::move(name);
    return *this;
  }
  Error& column(std::string name) & {
    column_ = std::move(name);
    return *this;
  }
  Error&& detail(std::string text) && { return std::move(detail(std::move(text))); }
  Error&& hint(std::string text) && { return std::move(hint(std::move(text))); }
  Error&& table(std::string schema, std::string name) && {
    return std::move(table(std::move(schema), std::move(name)));
  }
  Error&& column(std::string name) && { return std::move(column(std::move(name))); }

  const std::string& sqlstate() const noexcept { return sqlstate_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }
  const std::string& schema_name() const noexcept { return schema_; }
  const std::string& table_name() const noexcept { return table_; }
  const std::string& column_name() const noexcept { return column_; }

 private:
  std::string sqlstate_;
  std::string detail_;
  std::string hint_;
  std::string schema_;
  std::string table_;
  std::string column_;
};

// The SQLSTATEs chronicle's C++ code throws, by name: the one place they are
// spelled out (the boundary maps any five-character code).
namespace sqlstate {
inline constexpr const char* kFeatureNotSupported = "0A000";
inline constexpr const char* kNullValueNotAllowed = "22004";
inline constexpr const char* kInvalidParameterValue = "22023";
inline constexpr const char* kInvalidTextRepresentation = "22P02";
inline constexpr const char* kUndefinedColumn = "42703";
inline constexpr const char* kDatatypeMismatch = "42804";
inline constexpr const char* kUndefinedTable = "42P01";
inline constexpr const char* kDuplicateTable = "42P07";
inline constexpr const char* kWrongObjectType = "42809";
inline constexpr const char* kTriggerProtocolViolated = "39P01";
inline constexpr const char* kObjectNotInPrerequisiteState = "55000";
inline constexpr const char* kLockNotAvailable = "55P03";
inline constexpr const char* kNoDataFound = "P0002";
inline constexpr const char* kInternalError = "XX000";
}  // namespace sqlstate

}  // namespace chronicle
