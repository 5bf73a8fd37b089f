// maintain_audit_log and set_audit_retention (1.3): partitions made ahead of
// the writers, and the oldest ones dropped or archived once every row in them
// is older than the retention asked for, all while writers keep writing.
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
#include "catalog/namespace.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace chronicle::audit {
namespace {

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
  const std::string owner = owner_of(log.oid);
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
    const Oid extension = sql.extension();
    const Oid partition = sql.relation(name);
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

}  // namespace
}  // namespace chronicle::audit

using namespace chronicle;

CHRONICLE_FUNCTION(chronicle_maintain_audit_log) {
  ReturnSetInfo* result = pg::pg_call([&] {
    InitMaterializedSRF(fcinfo, 0);
    return reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  });
  audit::Actions actions;
  {
    audit::Sql sql(fcinfo->flinfo->fn_oid);
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
    audit::Sql sql(fcinfo->flinfo->fn_oid);
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
          throw Error(sqlstate::kInvalidParameterValue, "p_archive_schema must not be the extension's schema")
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
