#!/usr/bin/env bash
# Plans of queries.sql on an audit_logs built from al_src (data.sql), with the
# reference's indexes ("ref") or 1.2's ("1.2"). Usage: plans.sh ref|1.2
set -euo pipefail
design=$1
psql -qX -v ON_ERROR_STOP=1 <<SQL
DROP TABLE IF EXISTS audit_logs;
CREATE TABLE audit_logs (LIKE al_src);
INSERT INTO audit_logs SELECT * FROM al_src;
ALTER TABLE audit_logs ADD PRIMARY KEY (id);
CREATE INDEX idx_audit_table_operation ON audit_logs(table_name, operation);
CREATE INDEX idx_audit_record_id ON audit_logs(record_id);
CREATE INDEX idx_audit_user_id ON audit_logs(user_id);
SQL
if [[ $design == ref ]]; then psql -qX -c "
CREATE INDEX idx_audit_created_at ON audit_logs(created_at DESC);
CREATE INDEX idx_audit_old_data_gin ON audit_logs USING GIN (old_data);
CREATE INDEX idx_audit_new_data_gin ON audit_logs USING GIN (new_data);"
else psql -qX -c "
CREATE INDEX idx_audit_created_at_brin ON audit_logs USING brin (created_at) WITH (pages_per_range = 32);
CREATE INDEX idx_audit_changed_fields ON audit_logs USING gin (changed_fields) WITH (fastupdate = on, gin_pending_list_limit = 64);"
fi
psql -qX -c "VACUUM ANALYZE audit_logs"
rec=$(psql -qXAt -c "SELECT record_id FROM audit_logs WHERE table_name='posts' OFFSET 12345 LIMIT 1")
usr=$(psql -qXAt -c "SELECT user_id FROM audit_logs OFFSET 54321 LIMIT 1")
t0=$(psql -qXAt -c "SELECT created_at FROM audit_logs WHERE id = 250000")
psql -qX -v rec="$rec" -v usr="$usr" -v t0="$t0" -c "SELECT pg_size_pretty(pg_indexes_size('audit_logs')) AS indexes, pg_size_pretty(pg_table_size('audit_logs')) AS table_bytes" \
 -f <(sed -n 's/^SELECT/EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT/p; s/^-- \(Q.*\)/\\echo \1/p' "$(dirname "$0")/queries.sql")
