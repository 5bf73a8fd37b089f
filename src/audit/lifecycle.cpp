// partition_audit_log, maintain_audit_log, set_audit_retention (1.3): an audit
// log partitioned by ranges of id, with partitions made ahead of the writers and
// old ones dropped or archived, all while writers keep writing.
//
// Why ranges of id: the primary key stays on id (a partitioned table's unique
// keys must hold its partition key), the rows already there are exactly the
// range below the highest id, so the old table becomes the first partition
// without a row moving, and "newest first" (ORDER BY id DESC) stays one index
// read per partition. A partition's size is the observed write rate (ids per
// second over the newest ids) times the interval asked for.
//
// partition_audit_log runs in the caller's transaction, so a crash or an error
// anywhere leaves audit_logs as it was. It builds the new partitioned table,
// its indexes and the partitions ahead before it locks anything writers use,
// then, under a short ACCESS EXCLUSIVE lock on the old table:
//  1. reads the highest id from the primary key's btree (O(log n), every row
//     version has an entry), so `id < N` holds for every row;
//  2. adds CHECK (id < N) NOT VALID and records it validated, as VALIDATE
//     would once its scan found nothing (the proof is step 1), so ATTACH
//     PARTITION finds the bound implied and does not scan the table;
//  3. renames, attaches the old table (its indexes are attached to the
//     parent's, not rebuilt), moves the sequence's ownership, and drops the
//     helper constraint.
// Every lock is taken in attempts of kAttemptMs under lock_timeout, each in a
// subtransaction: a writer that arrives while an attempt waits queues behind it
// for at most that long.
// The SQL functions run with search_path = pg_catalog, pg_temp (their SET
// clause), so the statements below name operators and functions plainly; every
// relation is schema-qualified.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/lifecycle.h"
#include "pg/boundary.h"
#include "pg/spi.h"

extern "C" {
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

using namespace chronicle;

namespace chronicle::audit {
namespace {

constexpr int kAttemptMs = 50;          // the longest a writer may queue behind one attempt
constexpr int kDefaultBudgetMs = 2000;  // all attempts together, unless the session set lock_timeout
constexpr int kPartitionsAhead = 3;     // partitions kept beyond the one being written
constexpr int64 kDefaultPartitionSize = 1000000;
constexpr int64 kMinimumPartitionSize = 10000;
constexpr int64 kRateSampleIds = 100000;         // the write rate is measured over the newest ids
constexpr int32 kLifecycleLockKey = 0x63687231;  // with the schema's oid: one lifecycle call at a time

std::string quote_ident(const std::string& name) {
  const char* quoted = pg::pg_call([&] { return quote_identifier(name.c_str()); });
  return quoted;
}

std::string quote_literal(const std::string& text) {
  const char* quoted = pg::pg_call([&] { return quote_literal_cstr(text.c_str()); });
  return quoted;
}

std::string partition_name(int64 number) { return fmt::format("audit_logs_p{:06d}", number); }

using Row = std::vector<std::optional<std::string>>;

// The statements of one call, through one SPI connection.
class Sql {
 public:
  explicit Sql(Oid schema)
      : schema_oid_(schema),
        schema_name_(pg::pg_call([&] { return get_namespace_name(schema); })),
        schema_(quote_ident(schema_name_)) {}

  void run(const std::string& statement) { spi_.execute(statement.c_str(), false); }

  std::vector<Row> rows(const std::string& query) {
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

  std::optional<std::string> value(const std::string& query) {
    std::vector<Row> result = rows(query);
    if (result.empty() || result[0].empty()) return std::nullopt;
    return result[0][0];
  }

  // schema.name, quoted.
  std::string qualified(const std::string& name) const { return schema_ + "." + quote_ident(name); }
  const std::string& schema() const { return schema_; }
  const std::string& schema_name() const { return schema_name_; }
  Oid schema_oid() const { return schema_oid_; }

 private:
  pg::SpiSession spi_;
  Oid schema_oid_;
  std::string schema_name_;
  std::string schema_;
};

int64 to_int64(const std::optional<std::string>& text) { return text ? std::stoll(*text) : 0; }

// A lock on relation, taken in bounded attempts (lifecycle.h); 55P03 when the
// budget runs out.
void lock_relation(Oid relation, LOCKMODE mode, const std::string& what) {
  const int budget = LockTimeout > 0 ? LockTimeout : kDefaultBudgetMs;
  const TimestampTz start = GetCurrentTimestamp();
  for (int attempt = 1;; ++attempt) {
    const int wait = std::min(kAttemptMs, budget);
    if (pg::pg_call([&] { return try_lock_relation(relation, mode, wait); })) return;
    const long elapsed = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
    if (elapsed >= budget) {
      throw Error(sqlstate::kLockNotAvailable,
                  fmt::format("could not lock {} within {} ms", what, budget))
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

struct AuditLog {
  Oid oid = InvalidOid;
  char kind = '\0';
};

AuditLog find_audit_log(Sql& sql) {
  const std::vector<Row> found = sql.rows(
      fmt::format("SELECT c.oid, c.relkind FROM pg_catalog.pg_class c WHERE c.relname = 'audit_logs' "
                  "AND c.relnamespace = {}",
                  sql.schema_oid()));
  if (found.empty()) {
    throw Error(sqlstate::kUndefinedTable,
                fmt::format("relation \"{}.audit_logs\" does not exist", sql.schema_name()));
  }
  AuditLog log;
  log.oid = static_cast<Oid>(std::stoul(*found[0][0]));
  log.kind = (*found[0][1])[0];
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
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "audit_logs.id takes its values from no sequence")
        .hint("Partitions are sized and made ahead from the sequence behind audit_logs.id.");
  }
  return *sequence;
}

// The next value the sequence hands out.
int64 next_id(Sql& sql, const std::string& sequence) {
  return to_int64(
      sql.value(fmt::format("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {}", sequence)));
}

struct Settings {
  bool present = false;
  std::string interval;
  int64 size = 0;
  int64 made = 0;
  std::optional<std::string> keep;
  std::optional<std::string> archive;
};

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

// The parts of the old table that the new parent copies.
struct Index {
  std::string name;
  std::string definition;  // from USING on
  bool unique;
  bool primary;
};

std::vector<Index> indexes_of(Sql& sql, Oid table) {
  const std::vector<Row> found = sql.rows(
      fmt::format("SELECT c.relname, pg_catalog.substring(pg_catalog.pg_get_indexdef(i.indexrelid), ' USING .*$'), "
                  "       i.indisunique, i.indisprimary, "
                  "       EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid "
                  "                  AND k.conrelid = i.indrelid AND NOT i.indisprimary) "
                  "  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
                  " WHERE i.indrelid = {} AND i.indisvalid ORDER BY c.relname",
                  table));
  std::vector<Index> indexes;
  for (const Row& row : found) {
    if (*row[4] == "t") {
      throw Error(sqlstate::kFeatureNotSupported,
                  fmt::format("cannot partition audit_logs: index \"{}\" backs a unique or exclusion constraint",
                              *row[0]))
          .hint("Drop the constraint, partition, then add it to the partitioned table (it must include id).");
    }
    indexes.push_back(Index{*row[0], *row[1], *row[2] == "t", *row[3] == "t"});
  }
  return indexes;
}

// partition_audit_log's work; false when audit_logs is already partitioned.
bool partition(Sql& sql, const std::string& interval) {
  take_lifecycle_lock(sql, true);
  const AuditLog old = find_audit_log(sql);
  if (old.kind == 'p') return false;
  if (old.kind != 'r') {
    throw Error(sqlstate::kWrongObjectType, "\"audit_logs\" is not a table");
  }
  require_positive(sql, interval, "p_interval");
  const int64 pending = to_int64(
      sql.value(fmt::format("SELECT pg_catalog.count(*) FROM {}.pending_migration_steps() s WHERE s.ddl ~ "
                            "'audit_logs'",
                            sql.schema())));
  if (pending > 0) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                fmt::format("audit_logs has {} pending migration step(s)", pending))
        .detail("A partitioned table cannot have an index built CONCURRENTLY.")
        .hint("Run SELECT ddl FROM pending_migration_steps() \\gexec first, then partition_audit_log() again.");
  }

  const std::string table = sql.qualified("audit_logs");
  const std::string sequence = id_sequence(sql);
  const Settings settings = read_settings(sql);
  const int64 size = partition_size(sql, table, interval, kDefaultPartitionSize);
  // The first new partition starts past the ids writers may still take while
  // this call waits for its lock: a minute at the observed rate.
  const int64 highest_seen = to_int64(sql.value(fmt::format("SELECT id FROM {} ORDER BY id DESC LIMIT 1", table)));
  const int64 bound = std::max(highest_seen + 1, next_id(sql, sequence)) +
                      std::max(kMinimumPartitionSize, size / 43200 + 1);  // ~1 minute of a month's partition
  const int64 first = settings.made + 1;
  const std::string old_name = partition_name(first);
  const std::string staging = "audit_logs_partitioned";
  for (int64 n = first; n <= first + kPartitionsAhead; ++n) {
    for (const std::string& name : {partition_name(n), staging}) {
      if (sql.value(fmt::format("SELECT pg_catalog.to_regclass({})", quote_literal(sql.qualified(name))))) {
        throw Error(sqlstate::kDuplicateTable, fmt::format("relation \"{}\" already exists", name))
            .hint("partition_audit_log names the partitions audit_logs_pNNNNNN; rename or drop that table.");
      }
    }
  }

  // 1. The partitioned table, its indexes and the partitions ahead, under
  //    names of their own: no lock that a writer waits for.
  const std::string parent = sql.qualified(staging);
  const std::vector<Index> indexes = indexes_of(sql, old.oid);
  const std::string owner = *sql.value(fmt::format(
      "SELECT pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(relowner)) FROM pg_catalog.pg_class WHERE oid "
      "= {}",
      old.oid));
  sql.run(fmt::format(
      "CREATE TABLE {} (LIKE {} INCLUDING COMMENTS INCLUDING CONSTRAINTS INCLUDING DEFAULTS INCLUDING GENERATED "
      "INCLUDING STATISTICS INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE (id)",
      parent, table));
  sql.run(fmt::format("ALTER TABLE {} OWNER TO {}", parent, owner));
  if (std::optional<std::string> comment = sql.value(
          fmt::format("SELECT pg_catalog.obj_description({}, 'pg_class')", old.oid))) {
    sql.run(fmt::format("COMMENT ON TABLE {} IS {}", parent, quote_literal(*comment)));
  }
  for (const Row& grant :
       sql.rows(fmt::format("SELECT pg_catalog.format('GRANT %s ON TABLE %s TO %s%s', a.privilege_type, {}, "
                            "       CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
                            "            ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END, "
                            "       CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) "
                            "  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
                            " WHERE c.oid = {} AND a.grantee <> c.relowner",
                            quote_literal(parent), old.oid))) {
    sql.run(*grant[0]);
  }
  std::vector<std::pair<std::string, std::string>> renames;  // staging index name -> the old one's
  for (std::size_t k = 0; k < indexes.size(); ++k) {
    const Index& index = indexes[k];
    const std::string name = fmt::format("audit_logs_partitioned_{}", k);
    if (index.primary) {
      sql.run(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (id)", parent, quote_ident(name)));
    } else {
      sql.run(fmt::format("CREATE {}INDEX {} ON {} {}", index.unique ? "UNIQUE " : "", quote_ident(name), parent,
                          index.definition));
    }
    renames.emplace_back(name, index.name);
  }
  for (int k = 1; k <= kPartitionsAhead; ++k) {
    const std::string name = sql.qualified(partition_name(first + k));
    sql.run(fmt::format("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})", name, parent,
                        bound + (k - 1) * size, bound + k * size));
    sql.run(fmt::format("ALTER TABLE {} OWNER TO {}", name, owner));
  }

  // 2. Under the old table's ACCESS EXCLUSIVE lock: prove the bound, swap.
  lock_relation(old.oid, AccessExclusiveLock, "audit_logs");
  const TimestampTz locked_at = GetCurrentTimestamp();
  const AuditLog locked = find_audit_log(sql);
  if (locked.oid != old.oid || locked.kind != 'r') {
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "audit_logs was replaced while partition_audit_log waited for it")
        .hint("Call partition_audit_log() again.");
  }
  bool found = false;
  const int64 highest = pg::pg_call([&] { return max_primary_key(old.oid, &found); });
  if (found && highest >= bound) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                fmt::format("audit_logs reached id {} while partition_audit_log waited for it, past the "
                            "first new partition (from {})",
                            highest, bound))
        .hint("Call partition_audit_log() again.");
  }
  const char* helper = "audit_logs_partition_bound";
  sql.run(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK (id < {}) NOT VALID", table, helper, bound));
  pg::pg_call([&] { mark_check_validated(old.oid, helper); });
  for (const Index& index : indexes) {
    const std::string moved = fmt::format("{}_{}", old_name, index.name).substr(0, NAMEDATALEN - 1);
    if (index.primary) {
      sql.run(
          fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", table, quote_ident(index.name), quote_ident(moved)));
    } else {
      sql.run(fmt::format("ALTER INDEX {} RENAME TO {}", sql.qualified(index.name), quote_ident(moved)));
    }
  }
  sql.run(fmt::format("ALTER TABLE {} RENAME TO {}", table, quote_ident(old_name)));
  sql.run(fmt::format("ALTER TABLE {} RENAME TO audit_logs", parent));
  for (std::size_t k = 0; k < indexes.size(); ++k) {
    if (indexes[k].primary) {
      sql.run(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", table, quote_ident(renames[k].first),
                          quote_ident(renames[k].second)));
    } else {
      sql.run(
          fmt::format("ALTER INDEX {} RENAME TO {}", sql.qualified(renames[k].first), quote_ident(renames[k].second)));
    }
  }
  sql.run(fmt::format("ALTER SEQUENCE {} OWNED BY {}.id", sequence, table));
  // The bound is implied by the validated helper: no scan; the old table's
  // indexes match the parent's and are attached, not built.
  sql.run(fmt::format("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM (MINVALUE) TO ({})", table,
                      sql.qualified(old_name), bound));
  sql.run(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", sql.qualified(old_name), helper));
  // A logical subscriber keeps receiving one table audit_logs: each publication
  // that published it publishes the partitioned table, through its root.
  for (const Row& publication : sql.rows(fmt::format(
           "SELECT pg_catalog.quote_ident(p.pubname), p.puballtables, p.pubviaroot FROM pg_catalog.pg_publication p "
           " WHERE p.puballtables OR EXISTS (SELECT FROM pg_catalog.pg_publication_rel r "
           "                                  WHERE r.prpubid = p.oid AND r.prrelid = {})",
           old.oid))) {
    if (*publication[1] != "t") sql.run(fmt::format("ALTER PUBLICATION {} ADD TABLE {}", *publication[0], table));
    if (*publication[2] != "t") {
      sql.run(fmt::format("ALTER PUBLICATION {} SET (publish_via_partition_root = true)", *publication[0]));
    }
  }
  // pg_dump: the parent and every partition are the extension's tables (a
  // partition made later by maintain_audit_log too), config-dumped: their rows
  // are saved, their definitions come from the extension (README.md, Backups).
  const Oid extension = pg::pg_call([] { return get_extension_oid("chronicle", false); });
  const Oid new_parent = find_audit_log(sql).oid;
  pg::pg_call([&] { add_extension_table(extension, new_parent); });
  for (int k = 1; k <= kPartitionsAhead; ++k) {
    const std::string name = partition_name(first + k);
    const Oid partition = pg::pg_call([&] { return get_relname_relid(name.c_str(), sql.schema_oid()); });
    pg::pg_call([&] { add_extension_table(extension, partition); });
  }
  sql.run(
      fmt::format("INSERT INTO {} (partition_interval, partition_size, partitions_made) VALUES ({}, {}, {}) "
                  "ON CONFLICT (singleton) DO UPDATE SET partition_interval = EXCLUDED.partition_interval, "
                  "partition_size = EXCLUDED.partition_size, partitions_made = EXCLUDED.partitions_made",
                  sql.qualified("audit_log_settings"), interval, size, first + kPartitionsAhead));
  report_lock_time("partition_audit_log", locked_at);
  return true;
}

struct Partition {
  std::string name;
  std::optional<int64> from;  // nullopt: MINVALUE
  std::optional<int64> to;    // nullopt: MAXVALUE, or the DEFAULT partition
  bool is_default;
  bool member;  // of the extension (the table partition_audit_log started from)
};

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

using Actions = std::vector<std::pair<std::string, std::string>>;

// Partitions ahead of the writers: each made as a table of its own and then
// attached, which takes SHARE UPDATE EXCLUSIVE on audit_logs (writers do not
// wait for it; CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE).
void make_partitions_ahead(Sql& sql, const AuditLog& log, Settings& settings, Actions& actions) {
  const std::string table = sql.qualified("audit_logs");
  const std::string sequence = id_sequence(sql);
  const std::vector<Partition> partitions = partitions_of(sql, log.oid);
  std::optional<int64> top;
  for (const Partition& p : partitions) {
    if (p.is_default) continue;
    if (!p.to) return;  // a MAXVALUE partition takes every new id
    top = std::max(top.value_or(INT64_MIN), *p.to);
  }
  const int64 next = next_id(sql, sequence);
  if (!top) top = next;
  const std::string owner = *sql.value(fmt::format(
      "SELECT pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(relowner)) FROM pg_catalog.pg_class WHERE oid "
      "= {}",
      log.oid));
  const int64 size = partition_size(sql, table, settings.interval, settings.size);
  while (*top < next + static_cast<int64>(kPartitionsAhead) * size) {
    const std::string name = partition_name(++settings.made);
    const std::string qualified = sql.qualified(name);
    sql.run(
        fmt::format("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED "
                    "INCLUDING STORAGE INCLUDING COMPRESSION)",
                    qualified, table));
    sql.run(fmt::format("ALTER TABLE {} OWNER TO {}", qualified, owner));
    lock_relation(log.oid, ShareUpdateExclusiveLock, "audit_logs");
    sql.run(fmt::format("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})", table, qualified, *top,
                        *top + size));
    const Oid extension = pg::pg_call([] { return get_extension_oid("chronicle", false); });
    const Oid partition = pg::pg_call([&] { return get_relname_relid(name.c_str(), sql.schema_oid()); });
    pg::pg_call([&] { add_extension_table(extension, partition); });
    actions.emplace_back("created", name);
    *top += size;
  }
  settings.size = size;
  sql.run(fmt::format("UPDATE {} SET partition_size = {}, partitions_made = {}", sql.qualified("audit_log_settings"),
                      size, settings.made));
}

// Retention: the oldest partitions whose every row is older than `keep`.
// A partition can still receive rows while a transaction that took an id in
// its range has not ended (ids are taken before commit, and created_at is the
// writing transaction's start, not the order of ids), so a partition is a
// candidate only once the sequence has handed out every id of its range, and
// only after every transaction that held audit_logs then has ended; its rows
// are then all there to be read.
void apply_retention(Sql& sql, const AuditLog& log, const Settings& settings, Actions& actions) {
  if (!settings.keep) return;
  const std::string sequence = id_sequence(sql);
  const int64 next = next_id(sql, sequence);
  std::vector<Partition> closed;
  for (const Partition& p : partitions_of(sql, log.oid)) {
    if (p.is_default || !p.to || *p.to > next) break;
    closed.push_back(p);
  }
  if (closed.empty()) return;
  const int budget = LockTimeout > 0 ? LockTimeout : kDefaultBudgetMs;
  if (!pg::pg_call([&] { return try_wait_for_lockers(log.oid, ShareLock, budget); })) {
    actions.emplace_back("retention deferred: a transaction writing audit_logs did not end", "");
    return;
  }
  const std::string cutoff = fmt::format("LOCALTIMESTAMP - {}::pg_catalog.interval", quote_literal(*settings.keep));
  std::vector<Partition> expired;
  for (const Partition& p : closed) {
    // A fresh snapshot per statement: every row of the range is committed.
    const bool old_enough = sql.value(fmt::format("SELECT COALESCE(pg_catalog.max(created_at) < {}, true) FROM {}",
                                                  cutoff, sql.qualified(p.name))) == std::optional<std::string>("t");
    if (!old_enough) break;  // later ranges hold later rows
    expired.push_back(p);
  }
  if (expired.empty()) return;
  // Dropping or detaching a partition takes ACCESS EXCLUSIVE on audit_logs
  // (PostgreSQL 15); held from here to the end of the transaction.
  lock_relation(log.oid, AccessExclusiveLock, "audit_logs");
  const TimestampTz locked_at = GetCurrentTimestamp();
  for (const Partition& p : expired) {
    const std::string qualified = sql.qualified(p.name);
    if (p.member) sql.run(fmt::format("ALTER EXTENSION chronicle DROP TABLE {}", qualified));
    if (settings.archive) {
      sql.run(fmt::format("ALTER TABLE {} DETACH PARTITION {}", sql.qualified("audit_logs"), qualified));
      // An archived partition takes no ids: it must not depend on the sequence.
      sql.run(fmt::format("ALTER TABLE {} ALTER COLUMN id DROP DEFAULT", qualified));
      sql.run(fmt::format("ALTER TABLE {} SET SCHEMA {}", qualified, quote_ident(*settings.archive)));
      actions.emplace_back("archived", quote_ident(*settings.archive) + "." + quote_ident(p.name));
    } else {
      sql.run(fmt::format("DROP TABLE {}", qualified));
      actions.emplace_back("dropped", p.name);
    }
  }
  report_lock_time("maintain_audit_log", locked_at);
}

// unpartition_audit_log's work: a plain audit_logs again, with every row, the
// same columns, indexes (by the parent's names), grants, comment and sequence.
// It copies every row and builds every index under an ACCESS EXCLUSIVE lock on
// audit_logs: writers wait for it. False when audit_logs is not partitioned.
bool unpartition(Sql& sql) {
  take_lifecycle_lock(sql, true);
  const AuditLog log = find_audit_log(sql);
  if (log.kind != 'p') return false;
  lock_relation(log.oid, AccessExclusiveLock, "audit_logs");
  const std::string table = sql.qualified("audit_logs");
  const std::string plain = sql.qualified("audit_logs_unpartitioned");
  const std::string sequence = id_sequence(sql);
  const std::vector<Index> indexes = indexes_of(sql, log.oid);
  const std::string owner = *sql.value(fmt::format(
      "SELECT pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(relowner)) FROM pg_catalog.pg_class WHERE oid = {}",
      log.oid));
  sql.run(fmt::format(
      "CREATE TABLE {} (LIKE {} INCLUDING COMMENTS INCLUDING CONSTRAINTS INCLUDING DEFAULTS INCLUDING GENERATED "
      "INCLUDING STATISTICS INCLUDING STORAGE INCLUDING COMPRESSION)",
      plain, table));
  sql.run(fmt::format("ALTER TABLE {} OWNER TO {}", plain, owner));
  sql.run(fmt::format("INSERT INTO {} SELECT * FROM {}", plain, table));
  if (std::optional<std::string> comment = sql.value(
          fmt::format("SELECT pg_catalog.obj_description({}, 'pg_class')", log.oid))) {
    sql.run(fmt::format("COMMENT ON TABLE {} IS {}", plain, quote_literal(*comment)));
  }
  for (const Row& grant :
       sql.rows(fmt::format("SELECT pg_catalog.format('GRANT %s ON TABLE %s TO %s%s', a.privilege_type, {}, "
                            "       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE "
                            "pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END, "
                            "       CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) "
                            "  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
                            " WHERE c.oid = {} AND a.grantee <> c.relowner",
                            quote_literal(plain), log.oid))) {
    sql.run(*grant[0]);
  }
  // The sequence must not go with the partitioned table.
  sql.run(fmt::format("ALTER SEQUENCE {} OWNED BY {}.id", sequence, plain));
  for (const Partition& p : partitions_of(sql, log.oid)) {
    if (p.member) sql.run(fmt::format("ALTER EXTENSION chronicle DROP TABLE {}", sql.qualified(p.name)));
  }
  sql.run(fmt::format("ALTER EXTENSION chronicle DROP TABLE {}", table));
  sql.run(fmt::format("DROP TABLE {}", table));
  sql.run(fmt::format("ALTER TABLE {} RENAME TO audit_logs", plain));
  for (const Index& index : indexes) {
    if (index.primary) {
      sql.run(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (id)", table, quote_ident(index.name)));
    } else {
      sql.run(fmt::format("CREATE {}INDEX {} ON {} {}", index.unique ? "UNIQUE " : "", quote_ident(index.name), table,
                          index.definition));
    }
  }
  const Oid extension = pg::pg_call([] { return get_extension_oid("chronicle", false); });
  const Oid restored = find_audit_log(sql).oid;
  pg::pg_call([&] { add_extension_table(extension, restored); });
  sql.run(fmt::format("DELETE FROM {}", sql.qualified("audit_log_settings")));
  return true;
}

Oid extension_schema(FunctionCallInfo fcinfo) {
  const Oid function = fcinfo->flinfo->fn_oid;
  return pg::pg_call([&] { return get_func_namespace(function); });
}

}  // namespace
}  // namespace chronicle::audit

CHRONICLE_FUNCTION(chronicle_partition_audit_log) {
  if (PG_ARGISNULL(0)) {
    throw Error(sqlstate::kNullValueNotAllowed, "p_interval must not be NULL");
  }
  {
    audit::Sql sql(audit::extension_schema(fcinfo));
    const std::string interval = audit::interval_literal(fcinfo, 0);
    audit::partition(sql, interval);
  }
  PG_RETURN_VOID();
}

CHRONICLE_FUNCTION(chronicle_maintain_audit_log) {
  ReturnSetInfo* result = pg::pg_call([&] {
    InitMaterializedSRF(fcinfo, 0);
    return reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  });
  audit::Actions actions;
  {
    audit::Sql sql(audit::extension_schema(fcinfo));
    // Another call at work does the same: this one has nothing to add.
    if (audit::take_lifecycle_lock(sql, false)) {
      const audit::AuditLog log = audit::find_audit_log(sql);
      audit::Settings settings = audit::read_settings(sql);
      if (log.kind == 'p' && settings.present) {
        audit::make_partitions_ahead(sql, log, settings, actions);
        audit::apply_retention(sql, log, settings, actions);
      }
    }
  }
  for (const auto& [action, name] : actions) {
    const std::string& a = action;
    const std::string& n = name;
    pg::pg_call([&] {
      Datum values[2] = {CStringGetTextDatum(a.c_str()), n.empty() ? Datum(0) : CStringGetTextDatum(n.c_str())};
      bool nulls[2] = {false, n.empty()};
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    });
  }
  return Datum(0);
}

CHRONICLE_FUNCTION(chronicle_set_audit_retention) {
  {
    audit::Sql sql(audit::extension_schema(fcinfo));
    audit::take_lifecycle_lock(sql, true);
    const audit::AuditLog log = audit::find_audit_log(sql);
    if (log.kind != 'p' || !audit::read_settings(sql).present) {
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "audit_logs is not partitioned")
          .detail("Retention drops or detaches whole partitions of audit_logs.")
          .hint("Run SELECT partition_audit_log(); first, then set the retention.");
    }
    std::string keep = "NULL";
    std::string archive = "NULL";
    if (!PG_ARGISNULL(0)) {
      keep = audit::interval_literal(fcinfo, 0);
      audit::require_positive(sql, keep, "p_keep");
      if (!PG_ARGISNULL(1)) {
        const std::string schema = NameStr(*PG_GETARG_NAME(1));
        const Oid archive_oid = pg::pg_call([&] { return get_namespace_oid(schema.c_str(), false); });
        if (archive_oid == sql.schema_oid()) {
          throw Error(sqlstate::kInvalidParameterValue,
                      "p_archive_schema must not be the extension's schema")
              .hint("Archived partitions leave audit_logs; name another schema.");
        }
        archive = audit::quote_literal(schema) + "::pg_catalog.name";
      }
    }
    sql.run(fmt::format("UPDATE {} SET keep = {}, archive_schema = {}", sql.qualified("audit_log_settings"), keep,
                        archive));
  }
  PG_RETURN_VOID();
}

CHRONICLE_FUNCTION(chronicle_unpartition_audit_log) {
  {
    audit::Sql sql(audit::extension_schema(fcinfo));
    audit::unpartition(sql);
  }
  PG_RETURN_VOID();
}
