// What partition.cpp and retention.cpp share (1.3): one SPI session per call
// (Sql), locks taken in bounded attempts, the advisory lock that keeps two
// lifecycle calls apart, the settings row, the partitions and the write rate;
// and the native catalog steps that SQL cannot do (bounded waits in a
// subtransaction, the highest key of the primary key, a CHECK recorded as
// validated, a table made an extension member). The catalog steps are plain
// C-style code that may raise an ERROR: callers go through pg_call
// (boundary rule 2).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "pg/boundary.h"
#include "pg/catalog.h"
#include "pg/spi.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type_d.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace chronicle::audit {
namespace {

enum class Wait { kLock, kLockers };

// Runs one bounded wait in a subtransaction, as PL/pgSQL's exception block
// does (pl_exec.c): lock_timeout is set for the wait only (a GUC nest level
// restores it), and a 55P03 rolls the subtransaction back, which releases
// whatever the wait queued.
bool bounded_wait(Wait what, Oid relation, LOCKMODE mode, int timeout_ms) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  volatile bool done = false;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(context);
  PG_TRY();
  {
    const int nest_level = NewGUCNestLevel();
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%dms", timeout_ms);
    (void)set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    if (what == Wait::kLock) {
      LockRelationOid(relation, mode);
    } else {
      LOCKTAG tag;
      SET_LOCKTAG_RELATION(tag, MyDatabaseId, relation);
      WaitForLockers(tag, mode, false);
    }
    AtEOXact_GUC(true, nest_level);
    ReleaseCurrentSubTransaction();  // a lock taken in it passes to the transaction
    done = true;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    if (error->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE) ReThrowError(error);
    FreeErrorData(error);
  }
  PG_END_TRY();
  MemoryContextSwitchTo(context);
  CurrentResourceOwner = owner;
  return done;
}

[[noreturn]] void report_unusable_key(Relation rel, const char* why) {
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("cannot partition \"%s\": %s", RelationGetRelationName(rel), why),
                  errhint("audit_logs is partitioned by ranges of its primary key, id (bigint, NOT NULL).")));
}

}  // namespace

bool try_lock_relation(Oid relation, LOCKMODE mode, int timeout_ms) {
  return bounded_wait(Wait::kLock, relation, mode, timeout_ms);
}

bool try_wait_for_lockers(Oid relation, LOCKMODE mode, int timeout_ms) {
  return bounded_wait(Wait::kLockers, relation, mode, timeout_ms);
}

int64 max_primary_key(Oid relation, bool* found) {
  Relation heap = table_open(relation, NoLock);  // the caller holds its lock
  const Oid key = RelationGetPrimaryKeyIndex(heap);
  if (!OidIsValid(key)) report_unusable_key(heap, "it has no primary key");
  Relation index = index_open(key, AccessShareLock);
  Form_pg_index form = index->rd_index;
  // Every row has an entry: a valid, ready, unique btree on the column itself,
  // with no predicate, over a NOT NULL bigint.
  if (index->rd_rel->relam != BTREE_AM_OID || !form->indisvalid || !form->indisready || !form->indisunique ||
      form->indnkeyatts != 1 || form->indkey.values[0] <= 0 ||
      !heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) ||
      !heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr)) {
    report_unusable_key(heap, "its primary key is not a plain btree on one column");
  }
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(heap), form->indkey.values[0] - 1);
  if (strcmp(NameStr(attr->attname), "id") != 0 || attr->atttypid != INT8OID || !attr->attnotnull) {
    report_unusable_key(heap, "its primary key is not the bigint column id");
  }
  IndexScanDesc scan = index_beginscan(heap, index, SnapshotAny, 0, 0);
  scan->xs_want_itup = true;
  index_rescan(scan, nullptr, 0, nullptr, 0);
  int64 highest = 0;
  *found = false;
  if (index_getnext_tid(scan, BackwardScanDirection) != nullptr) {
    bool is_null = true;
    const Datum value = index_getattr(scan->xs_itup, 1, scan->xs_itupdesc, &is_null);
    Assert(!is_null);
    highest = DatumGetInt64(value);
    *found = true;
  }
  index_endscan(scan);
  index_close(index, AccessShareLock);
  table_close(heap, NoLock);
  return highest;
}

void mark_check_validated(Oid relation, const char* name) {
  Relation constraints = table_open(ConstraintRelationId, RowExclusiveLock);
  const Oid constraint = get_relation_constraint_oid(relation, name, false);
  HeapTuple tuple = SearchSysCacheCopy1(CONSTROID, ObjectIdGetDatum(constraint));
  if (!HeapTupleIsValid(tuple)) {
    ereport(ERROR,
            (errcode(ERRCODE_INTERNAL_ERROR), errmsg_internal("cache lookup failed for constraint %u", constraint)));
  }
  auto* form = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
  if (form->contype != CONSTRAINT_CHECK) {
    ereport(ERROR,
            (errcode(ERRCODE_INTERNAL_ERROR), errmsg_internal("constraint \"%s\" is not a CHECK constraint", name)));
  }
  form->convalidated = true;
  CatalogTupleUpdate(constraints, &tuple->t_self, tuple);
  heap_freetuple(tuple);
  table_close(constraints, RowExclusiveLock);
  // The relcache holds each CHECK's validity (ATTACH PARTITION reads it there).
  CacheInvalidateRelcacheByRelid(relation);
  CommandCounterIncrement();
}

void add_extension_table(Oid extension, Oid relation) {
  ObjectAddress member;
  ObjectAddressSet(member, RelationRelationId, relation);
  ObjectAddress owner;
  ObjectAddressSet(owner, ExtensionRelationId, extension);
  recordDependencyOn(&member, &owner, DEPENDENCY_EXTENSION);
  recordExtObjInitPriv(relation, RelationRelationId);  // its grants, as the extension made them
  CommandCounterIncrement();
  // pg_extension_config_dump checks that it runs inside the extension's
  // script and that the table is its member; both hold for the call.
  const bool was_creating = creating_extension;
  const Oid was_current = CurrentExtensionObject;
  creating_extension = true;
  CurrentExtensionObject = extension;
  PG_TRY();
  { DirectFunctionCall2(pg_extension_config_dump, ObjectIdGetDatum(relation), CStringGetTextDatum("")); }
  PG_FINALLY();
  {
    creating_extension = was_creating;
    CurrentExtensionObject = was_current;
  }
  PG_END_TRY();
  CommandCounterIncrement();
}

std::string quote_ident(const std::string& name) {
  const char* quoted = pg::pg_call([&] { return quote_identifier(name.c_str()); });
  return quoted;
}

std::string quote_literal(const std::string& text) {
  const char* quoted = pg::pg_call([&] { return quote_literal_cstr(text.c_str()); });
  return quoted;
}

std::string partition_name(int64 number) { return fmt::format("audit_logs_p{:06d}", number); }

Sql::Sql(Oid function)
    : schema_oid_(pg::pg_call([&] { return pg::extension_schema(function); })),
      extension_(pg::pg_call([&] { return pg::extension_of(function); })),
      schema_name_(pg::pg_call([&] { return get_namespace_name(schema_oid_); })),
      schema_(quote_ident(schema_name_)) {}

void Sql::run(const std::string& statement) { spi_.execute(statement.c_str(), false); }

std::vector<Sql::Row> Sql::rows(const std::string& query) {
  const uint64 count = spi_.execute(query.c_str(), false);
  std::vector<Row> result;
  result.reserve(count);
  SPITupleTable* table = spi_.result();
  for (uint64 r = 0; r < count; ++r) {
    Row row;
    for (int c = 1; c <= table->tupdesc->natts; ++c) {
      const char* text = pg::pg_call([&] { return SPI_getvalue(table->vals[r], table->tupdesc, c); });
      row.push_back(text == nullptr ? std::nullopt : std::optional<std::string>(text));
    }
    result.push_back(std::move(row));
  }
  return result;
}

std::optional<std::string> Sql::value(const std::string& query) {
  std::vector<Row> result = rows(query);
  if (result.empty() || result[0].empty()) return std::nullopt;
  return result[0][0];
}

std::string Sql::qualified(const std::string& name) const { return schema_ + "." + quote_ident(name); }

std::string owner_of(Oid relation) {
  const char* name = pg::pg_call([&] { return GetUserNameFromId(pg::relation_owner(relation), false); });
  return quote_ident(name);
}

Oid Sql::relation(const std::string& name) const {
  return pg::pg_call([&] { return pg::find_extension_relation(schema_oid_, name.c_str()); });
}

int64 to_int64(const std::optional<std::string>& text) { return text ? std::stoll(*text) : 0; }

// A lock on relation, taken in bounded attempts (audit.h); 55P03 when the
// budget runs out.
void lock_relation(Oid relation, LOCKMODE mode, const std::string& what) {
  const int budget = LockTimeout > 0 ? LockTimeout : kDefaultBudgetMs;
  const TimestampTz start = GetCurrentTimestamp();
  for (int attempt = 1;; ++attempt) {
    const int wait = std::min(kAttemptMs, budget);
    if (pg::pg_call([&] { return try_lock_relation(relation, mode, wait); })) return;
    const long elapsed = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
    if (elapsed >= budget) {
      throw Error(sqlstate::kLockNotAvailable, fmt::format("could not lock {} within {} ms", what, budget))
          .detail(fmt::format("{} attempts of at most {} ms each found it held by other transactions.", attempt, wait))
          .hint(
              "Call again later, or SET lock_timeout to allow a longer total wait; writers never queue behind "
              "an attempt for longer than one attempt.");
    }
    // Let the writers queued behind the attempt through before the next one.
    pg::pg_call([] {
      pg_usleep(10000L);
      CHECK_FOR_INTERRUPTS();
    });
  }
}

// How long audit_logs has been held ACCESS EXCLUSIVE (to the end of the
// function; the commit adds its WAL flush): DEBUG1, for benchmarks and DBAs.
void report_lock_time(const char* function, TimestampTz since) {
  const long held = TimestampDifferenceMilliseconds(since, GetCurrentTimestamp());
  pg::pg_call(
      [&] { ereport(DEBUG1, (errmsg_internal("%s: audit_logs held ACCESS EXCLUSIVE for %ld ms", function, held))); });
}

// The advisory lock that keeps two lifecycle calls of one schema apart.
bool take_lifecycle_lock(Sql& sql, bool wait) {
  const std::string call = fmt::format("pg_catalog.{}({}, {})",
                                       wait ? "pg_advisory_xact_lock" : "pg_try_advisory_xact_lock", kLifecycleLockKey,
                                       static_cast<int32>(sql.schema_oid()));
  if (wait) {
    sql.run("SELECT " + call);
    return true;
  }
  return sql.value("SELECT " + call) == std::optional<std::string>("t");
}

AuditLog find_audit_log(Sql& sql) {
  AuditLog log;
  log.oid = sql.relation("audit_logs");
  if (!OidIsValid(log.oid)) {
    throw Error(sqlstate::kUndefinedTable, fmt::format("relation \"{}.audit_logs\" does not exist", sql.schema_name()));
  }
  log.kind = pg::pg_call([&] { return get_rel_relkind(log.oid); });
  return log;
}

// The interval argument as an SQL literal of type interval.
std::string interval_literal(FunctionCallInfo fcinfo, int index) {
  const char* text = pg::pg_call(
      [&] { return DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(index))); });
  return quote_literal(text) + "::pg_catalog.interval";
}

void require_positive(Sql& sql, const std::string& interval, const char* name) {
  if (sql.value(fmt::format("SELECT {} > '0'::pg_catalog.interval", interval)) != std::optional<std::string>("t")) {
    throw Error(sqlstate::kInvalidParameterValue, fmt::format("{} must be positive", name));
  }
}

// ids per partition: the rate at which the newest ids were written (up to
// kRateSampleIds of them, over at least a minute) times the interval; the
// fallback when there is too little history to tell.
int64 partition_size(Sql& sql, const std::string& table, const std::string& interval, int64 fallback) {
  const std::optional<std::string> size = sql.value(
      fmt::format("WITH hi AS (SELECT id, created_at FROM {0} ORDER BY id DESC LIMIT 1), "
                  "lo AS (SELECT l.id, l.created_at FROM {0} l, hi WHERE l.id >= hi.id - {1} "
                  "       ORDER BY l.id LIMIT 1) "
                  "SELECT pg_catalog.ceil((hi.id - lo.id)::pg_catalog.float8 "
                  "         / EXTRACT(epoch FROM hi.created_at - lo.created_at)::pg_catalog.float8 "
                  "         * EXTRACT(epoch FROM {2})::pg_catalog.float8)::pg_catalog.int8 "
                  "  FROM hi, lo WHERE hi.id - lo.id >= 1000 "
                  "   AND hi.created_at - lo.created_at >= '1 minute'::pg_catalog.interval",
                  table, kRateSampleIds, interval));
  if (!size) return fallback;
  return std::max(to_int64(size), kMinimumPartitionSize);
}

// The sequence behind audit_logs.id's default, quoted and qualified.
std::string id_sequence(Sql& sql) {
  const std::optional<std::string> sequence = sql.value(
      fmt::format("SELECT pg_catalog.pg_get_serial_sequence({}, 'id')", quote_literal(sql.qualified("audit_logs"))));
  if (!sequence) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "audit_logs.id takes its values from no sequence")
        .hint("Partitions are sized and made ahead from the sequence behind audit_logs.id.");
  }
  return *sequence;
}

// The next value the sequence hands out.
int64 next_id(Sql& sql, const std::string& sequence) {
  return to_int64(
      sql.value(fmt::format("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {}", sequence)));
}

Settings read_settings(Sql& sql) {
  const std::vector<Row> found = sql.rows(
      fmt::format("SELECT partition_interval, partition_size, partitions_made, keep, archive_schema FROM {}",
                  sql.qualified("audit_log_settings")));
  Settings settings;
  if (found.empty()) return settings;
  settings.present = true;
  settings.interval = quote_literal(*found[0][0]) + "::pg_catalog.interval";
  settings.size = to_int64(found[0][1]);
  settings.made = to_int64(found[0][2]);
  settings.keep = found[0][3];
  settings.archive = found[0][4];
  return settings;
}

std::vector<Partition> partitions_of(Sql& sql, Oid parent) {
  std::vector<Partition> partitions;
  for (const Row& row : sql.rows(fmt::format(
           "SELECT c.relname, b[1], b[2], c.relpartbound IS NULL OR pg_catalog.pg_get_expr(c.relpartbound, c.oid) "
           "       = 'DEFAULT', "
           "       EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = "
           "'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype "
           "= 'e') "
           "  FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid, "
           "       LATERAL pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), "
           "                                       'FROM \\((.*)\\) TO \\((.*)\\)') b "
           " WHERE i.inhparent = {}",
           parent))) {
    Partition p;
    p.name = *row[0];
    p.is_default = *row[3] == "t";
    p.member = *row[4] == "t";
    const auto bound = [](const std::optional<std::string>& text) -> std::optional<int64> {
      if (!text || *text == "MINVALUE" || *text == "MAXVALUE") return std::nullopt;
      std::string digits = *text;
      digits.erase(std::remove(digits.begin(), digits.end(), '\''), digits.end());
      return std::stoll(digits);
    };
    p.from = bound(row[1]);
    p.to = bound(row[2]);
    partitions.push_back(std::move(p));
  }
  std::sort(partitions.begin(), partitions.end(), [](const Partition& a, const Partition& b) {
    return a.from.value_or(INT64_MIN) < b.from.value_or(INT64_MIN);
  });
  return partitions;
}

}  // namespace chronicle::audit
