// What the audit trigger derives once per trigger and relation version: the
// parsed options, how each live column becomes JSONB and is compared, where the
// record id and user id come from, and where the audit log is. Built by
// build_audit_config into a TriggerCache entry (plain data in its own context).
#pragma once

#include <string_view>
#include <vector>

#include "pg/not_an_edit.h"
#include "pg/postgres_headers.h"

extern "C" {
#include "commands/trigger.h"
#include "fmgr.h"
}

namespace chronicle::audit {

// The option keys audit_trigger_function accepts (README.md, MIGRATIONS.md);
// enable_audit's own mode= is taken off before the rest reach the trigger.
inline const std::vector<std::string_view> kAuditOptionKeys{"ignore", "record_id", pg::kNotAnEditKey};

// How a column's value becomes a JSONB value: the categories of PostgreSQL's
// to_jsonb (jsonb_categorize_type), with the common built-in ones done here and
// everything else handed to to_jsonb itself, so the result is to_jsonb's.
enum class JsonKind : unsigned char {
  Bool,      // true / false
  Integer,   // int2, int4, int8: a number
  Numeric,   // a number; NaN and +-Infinity become strings
  Float,     // float4, float8: through the output function, as to_jsonb does
  DateTime,  // date, timestamp, timestamptz: ISO 8601 strings
  Text,      // text, varchar, bpchar: the string itself
  Output,    // any other built-in scalar: its output function's text
  ToJsonb,   // arrays, composites, json, jsonb, enums, user types: to_jsonb()
};

// How a column's old and new values are compared for changed_fields.
enum class Equality : unsigned char {
  Operator,  // the type's = operator (IS DISTINCT FROM semantics)
  Binary,    // no = operator (json, xml, point, polygon, arrays of those...):
             // changed when the (detoasted) representations differ
};

struct AuditColumn {
  AttrNumber attnum;
  const char* name;  // NameStr(attname), copied into the cache
  Datum name_text;   // the name as a text datum, for changed_fields
  JsonKind kind;
  Oid base_type;  // the type with domains looked through
  bool ignored;   // named by ignore=: left out of changed_fields
  Equality equality;
  bool typbyval;
  int16 typlen;
  Oid collation;
  FmgrInfo equal;     // Equality::Operator
  FmgrInfo output;    // JsonKind::Float, Numeric (NaN/Inf), Output
  FmgrInfo to_jsonb;  // JsonKind::ToJsonb: to_jsonb(anyelement) bound to the column's type
};

struct AuditConfig {
  int column_count;  // live (not dropped) columns, in attnum order
  AuditColumn* columns;
  int natts;                         // the relation's attribute count, dropped ones included
  AttrNumber record_id;              // uuid column for record_id, 0 for none
  AttrNumber user_id;                // uuid column user_id, 0 for none
  const pg::NotAnEdit* not_an_edit;  // not_an_edit=: UPDATEs to skip; nullptr without it
  const char* table_name;            // RelationGetRelationName, copied
  int primary_key_count;             // 0 when the table has no primary key
  AttrNumber* primary_key;           // its columns
  Oid audit_schema;                  // the extension's schema: the writer resolves the table
                                     // named audit_logs there at each write (writer.h)
  Oid extension_owner;               // pg_extension.extowner: whom the writer's INSERT is as
  const char* description;           // "trigger \"t\" on table \"s.r\"", for messages
};

// Parses the trigger's options and resolves everything above. Throws 22023 for
// a malformed or unknown option, 42703 / 42804 for a bad column; `function_oid`
// (the trigger function) locates the extension's schema and owner; 42P01
// when that schema has no audit_logs now.
AuditConfig* build_audit_config(TriggerData* trigger, MemoryContext context, Oid function_oid);

}  // namespace chronicle::audit
