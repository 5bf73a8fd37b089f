#include "posts/posts.h"

#include <array>
#include <string>

#include "pg/boundary.h"
#include "pg/catalog.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
}

namespace chronicle::posts {

namespace {

constexpr std::size_t kQueryCount = static_cast<std::size_t>(Query::DeltaInsert) + 1;

struct PlanSet {
  Oid schema = InvalidOid;
  std::array<SPIPlanPtr, kQueryCount> plans{};
};
PlanSet saved;  // per backend; plans live in CacheMemoryContext (SPI_keepplan)

struct Definition {
  std::string sql;
  int nargs;
  std::array<Oid, 9> types;
};

Definition definition_of(Query query, const std::string& schema) {
  constexpr std::array<Oid, 9> kPage{UUIDOID, VARCHAROID, INT8OID,      TIMESTAMPOID, TIMESTAMPOID,
                                     UUIDOID, BOOLOID,    TIMESTAMPOID, UUIDOID};
  constexpr std::array<Oid, 9> kBoundary{UUIDOID, VARCHAROID, INT8OID};
  constexpr std::array<Oid, 9> kCount{UUIDOID, VARCHAROID};
  switch (query) {
    case Query::PageByStatus:
      return {page_query(schema, true), kPageArgs, kPage};
    case Query::PageAll:
      return {page_query(schema, false), kPageArgs, kPage};
    case Query::BoundaryByStatus:
      return {boundary_query(schema, true), kBoundaryArgs, kBoundary};
    case Query::BoundaryAll:
      return {boundary_query(schema, false), kBoundaryArgs, kBoundary};
    case Query::CountByStatus:
      return {count_query(schema, true), 2, kCount};
    case Query::CountAll:
      return {count_query(schema, false), 1, kCount};
    case Query::SoftDelete:
      return {soft_delete_query(schema), 2, {UUIDOID, UUIDOID}};
    case Query::Increment:
      return {increment_query(schema), 2, {UUIDOID, INT4OID}};
    case Query::Popular:
      return {popular_query(schema), 2, {INT4OID, INT8OID}};
    case Query::CursorSecret:
      return {cursor_secret_query(schema), 0, {}};
    case Query::DeltaInsert:
      return {delta_insert_query(schema), 3, {UUIDOID, VARCHAROID, INT8OID}};
  }
  throw Error(sqlstate::kInternalError, "unknown posts query");
}

}  // namespace

SPIPlanPtr plan_for(Query query, Oid schema) {
  if (saved.schema != schema) {
    for (SPIPlanPtr& plan : saved.plans) {
      if (plan != nullptr) pg::pg_call([&] { SPI_freeplan(plan); });
      plan = nullptr;
    }
    saved.schema = schema;
  }
  SPIPlanPtr& slot = saved.plans[static_cast<std::size_t>(query)];
  if (slot == nullptr) {
    const char* name = pg::pg_call([&] { return quote_identifier(get_namespace_name(schema)); });
    Definition definition = definition_of(query, name);
    // One generic plan, planned once: its index choice does not depend on the
    // parameter values (test/pgtap/posts_plans.sql checks the generic plans),
    // so custom plans would only add planning time to every call. Except the
    // popular posts: from 1.2 they are read from the table (no index holds
    // view_count), and whether the date range is worth an index depends on
    // how many days are asked for, which a generic plan cannot know.
    slot = pg::prepare_saved_plan(definition.sql.c_str(), definition.nargs, definition.types.data(),
                                  query == Query::Popular ? CURSOR_OPT_CUSTOM_PLAN : CURSOR_OPT_GENERIC_PLAN);
  }
  return slot;
}

void require_not_null(FunctionCallInfo fcinfo, int index, const char* name) {
  if (PG_ARGISNULL(index)) throw Error(sqlstate::kNullValueNotAllowed, fmt::format("{} must not be NULL", name));
}

int64 count_argument(FunctionCallInfo fcinfo, int index, const char* name, bool null_means_all) {
  if (PG_ARGISNULL(index)) {
    if (null_means_all) return -1;
    require_not_null(fcinfo, index, name);
  }
  const int32 value = PG_GETARG_INT32(index);
  if (value < 0) {
    throw Error(sqlstate::kInvalidParameterValue, fmt::format("{} must not be negative, got {}", name, value));
  }
  return value;
}

std::string uuid_text(Datum uuid) {
  const char* text = pg::pg_call([&] { return DatumGetCString(DirectFunctionCall1(uuid_out, uuid)); });
  return text;
}

ReturnSetInfo* begin_materialized(FunctionCallInfo fcinfo) {
  pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
  return reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
}

namespace {

Oid owner_of(Oid schema, const char* table) {
  return pg::pg_call([&] { return pg::relation_owner(pg::extension_relation(schema, table)); });
}

}  // namespace

OwnerScope::OwnerScope(Oid schema, const char* table) {
  const Oid owner = owner_of(schema, table);
  GetUserIdAndSecContext(&saved_user_, &saved_context_);
  SetUserIdAndSecContext(owner, saved_context_ | SECURITY_LOCAL_USERID_CHANGE);
}

OwnerScope::~OwnerScope() { SetUserIdAndSecContext(saved_user_, saved_context_); }

}  // namespace chronicle::posts
