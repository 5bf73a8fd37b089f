#!/usr/bin/env bash
# Usage: run_write_cost.sh PRELOAD BATCH  (cluster env sourced; data.sql loaded)
set -euo pipefail
pre=${1:-200000}; batch=${2:-100000}
psql -qX -v ON_ERROR_STOP=1 -f "$(dirname "$0")/write_cost.sql"
m() { psql -qX -v ON_ERROR_STOP=1 -c "CALL measure('$1', \$q\$$2\$q\$, $pre, $batch)"; }
m 'heap only' ''
m 'pkey btree(id)' 'ALTER TABLE al ADD PRIMARY KEY (id)'
m 'ref btree(table_name, operation)' 'CREATE INDEX ON al (table_name, operation)'
m 'ref btree(record_id)' 'CREATE INDEX ON al (record_id)'
m 'ref btree(user_id)' 'CREATE INDEX ON al (user_id)'
m 'ref btree(created_at DESC)' 'CREATE INDEX ON al (created_at DESC)'
m 'ref GIN(old_data) jsonb_ops' 'CREATE INDEX ON al USING gin (old_data)'
m 'ref GIN(new_data) jsonb_ops' 'CREATE INDEX ON al USING gin (new_data)'
m 'GIN(old_data) jsonb_ops fastupdate=off' 'CREATE INDEX ON al USING gin (old_data) WITH (fastupdate = off)'
m 'GIN(new_data) jsonb_path_ops' 'CREATE INDEX ON al USING gin (new_data jsonb_path_ops)'
m 'GIN(new_data) jsonb_path_ops fastupdate=off' 'CREATE INDEX ON al USING gin (new_data jsonb_path_ops) WITH (fastupdate = off)'
m 'GIN(changed_fields)' 'CREATE INDEX ON al USING gin (changed_fields)'
m 'GIN(changed_fields) fastupdate=off' 'CREATE INDEX ON al USING gin (changed_fields) WITH (fastupdate = off)'
m 'GIN(changed_fields) pending list 64 kB' 'CREATE INDEX ON al USING gin (changed_fields) WITH (fastupdate = on, gin_pending_list_limit = 64)'
m 'BRIN(created_at)' 'CREATE INDEX ON al USING brin (created_at)'
m 'btree(record_id, created_at DESC)' 'CREATE INDEX ON al (record_id, created_at DESC)'
m 'btree(user_id, created_at DESC)' 'CREATE INDEX ON al (user_id, created_at DESC)'
m 'btree(table_name, operation, created_at DESC)' 'CREATE INDEX ON al (table_name, operation, created_at DESC)'
m 'ref: all six + pkey' 'ALTER TABLE al ADD PRIMARY KEY (id); CREATE INDEX ON al (table_name, operation); CREATE INDEX ON al (record_id); CREATE INDEX ON al (user_id); CREATE INDEX ON al (created_at DESC); CREATE INDEX ON al USING gin (old_data); CREATE INDEX ON al USING gin (new_data)'
psql -qX -c "DROP TABLE IF EXISTS al" -c "
SELECT w.config, round(w.ms / $batch * 1000, 1) AS us_per_row,
       round((w.ms - h.ms) / $batch * 1000, 1) AS us_above_heap,
       round((w.wal_bytes - h.wal_bytes)::numeric / $batch) AS wal_b_per_row_above_heap,
       pg_size_pretty(w.index_bytes) AS index_size,
       round(w.index_bytes::numeric / ($pre + $batch)) AS index_b_per_row
  FROM write_cost w, write_cost h WHERE h.config = 'heap only' ORDER BY w.ctid"
