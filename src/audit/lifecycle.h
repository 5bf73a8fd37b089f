// The audit log's lifecycle (1.3): partition_audit_log, maintain_audit_log and
// set_audit_retention (src/audit/lifecycle.cpp). What they need of PostgreSQL
// beyond SQL is here: each function is plain C-style code that may raise an
// ERROR, to be called through pg_call (boundary rule 2).
#pragma once

#include "pg/postgres_headers.h"

extern "C" {
#include "storage/lockdefs.h"
}

namespace chronicle::audit {

// One attempt to take `mode` on `relation`, waiting at most timeout_ms, inside
// a subtransaction as a PL/pgSQL exception block runs it: true when locked
// (the lock then belongs to the transaction), false when lock_timeout expired
// (the subtransaction is rolled back and the error discarded). Any other error
// is raised.
bool try_lock_relation(Oid relation, LOCKMODE mode, int timeout_ms);

// Waits, at most timeout_ms, until every transaction that holds a lock on
// `relation` conflicting with `mode` has ended, without queueing a lock that
// would make new lockers wait (as CREATE INDEX CONCURRENTLY waits for writers).
// False when lock_timeout expired.
bool try_wait_for_lockers(Oid relation, LOCKMODE mode, int timeout_ms);

// The highest key of the primary key index of `relation` (a table whose
// primary key is a single bigint column), read from the index with
// SnapshotAny: every version of every row, live or dead, committed or not,
// has an entry there. Sets *found to false when the index is empty. The caller
// holds a lock that keeps new rows out. Raises 55000 when the primary key is
// not such an index.
int64 max_primary_key(Oid relation, bool* found);

// Records the CHECK constraint `name` of `relation`, added NOT VALID, as
// validated: exactly what ALTER TABLE ... VALIDATE CONSTRAINT records once its
// scan has found no violating row. Only for a constraint the caller has proven.
void mark_check_validated(Oid relation, const char* name);

// Makes `relation` a member of the extension `extension` (as ALTER EXTENSION
// ... ADD TABLE) whose rows pg_dump saves (as pg_extension_config_dump, which
// only an extension script may call: it is called here as if from one).
void add_extension_table(Oid extension, Oid relation);

}  // namespace chronicle::audit
