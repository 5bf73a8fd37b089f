// partition_audit_log and unpartition_audit_log (1.3): an audit log
// partitioned by ranges of id while writers keep writing, and back. The
// partitions made ahead later and the retention are retention.cpp's; what both
// share is lifecycle.cpp's.
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

#include "audit/audit.h"
#include "pg/boundary.h"
#include "pg/catalog.h"

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

namespace chronicle::audit {
namespace {

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

// Creates `target` with the columns, defaults, constraints and storage of
// `source` (named `source_name`), its owner, comment and grants; partitioned by
// ranges of id when `partitioned`.
void create_table_like(Sql& sql, Oid source, const std::string& source_name, const std::string& target,
                       bool partitioned) {
  sql.run(fmt::format(
      "CREATE TABLE {} (LIKE {} INCLUDING COMMENTS INCLUDING CONSTRAINTS INCLUDING DEFAULTS INCLUDING GENERATED "
      "INCLUDING STATISTICS INCLUDING STORAGE INCLUDING COMPRESSION){}",
      target, source_name, partitioned ? " PARTITION BY RANGE (id)" : ""));
  sql.run(fmt::format("ALTER TABLE {} OWNER TO {}", target, owner_of(source)));
  if (std::optional<std::string> comment = sql.value(
          fmt::format("SELECT pg_catalog.obj_description({}, 'pg_class')", source))) {
    sql.run(fmt::format("COMMENT ON TABLE {} IS {}", target, quote_literal(*comment)));
  }
  for (const Row& grant :
       sql.rows(fmt::format("SELECT pg_catalog.format('GRANT %s ON TABLE %s TO %s%s', a.privilege_type, {}, "
                            "       CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
                            "            ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END, "
                            "       CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) "
                            "  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
                            " WHERE c.oid = {} AND a.grantee <> c.relowner",
                            quote_literal(target), source))) {
    sql.run(*grant[0]);
  }
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
  const std::string owner = owner_of(old.oid);
  create_table_like(sql, old.oid, table, parent, true);
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
  const Oid extension = sql.extension();
  const Oid new_parent = find_audit_log(sql).oid;
  pg::pg_call([&] { add_extension_table(extension, new_parent); });
  for (int k = 1; k <= kPartitionsAhead; ++k) {
    const std::string name = partition_name(first + k);
    const Oid partition = sql.relation(name);
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
  create_table_like(sql, log.oid, table, plain, false);
  sql.run(fmt::format("INSERT INTO {} SELECT * FROM {}", plain, table));
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
  const Oid extension = sql.extension();
  const Oid restored = find_audit_log(sql).oid;
  pg::pg_call([&] { add_extension_table(extension, restored); });
  sql.run(fmt::format("DELETE FROM {}", sql.qualified("audit_log_settings")));
  return true;
}

}  // namespace
}  // namespace chronicle::audit

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_partition_audit_log) {
  if (PG_ARGISNULL(0)) {
    throw Error(sqlstate::kNullValueNotAllowed, "p_interval must not be NULL");
  }
  {
    audit::Sql sql(fcinfo->flinfo->fn_oid);
    const std::string interval = audit::interval_literal(fcinfo, 0);
    audit::partition(sql, interval);
  }
  PG_RETURN_VOID();
}

CHRONICLE_FUNCTION(chronicle_unpartition_audit_log) {
  {
    audit::Sql sql(fcinfo->flinfo->fn_oid);
    audit::unpartition(sql);
  }
  PG_RETURN_VOID();
}
