-- Write cost of each audit_logs index, alone: a table holding :preload rows
-- (the index built on them), then :batch more rows appended in one
-- INSERT ... SELECT. Reported per appended row: time above the no-index
-- heap, WAL bytes, and index bytes. Needs data.sql's al_src.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
DROP TABLE IF EXISTS write_cost;
CREATE TABLE write_cost (config text, ms numeric, wal_bytes bigint, index_bytes bigint, table_bytes bigint);
CREATE OR REPLACE PROCEDURE measure(config text, ddl text, preload int, batch int)
LANGUAGE plpgsql AS $$
DECLARE lsn0 pg_lsn; t0 timestamptz; ms numeric; wal bigint; ib bigint; tb bigint;
BEGIN
  DROP TABLE IF EXISTS al;
  CREATE TABLE al (LIKE al_src);
  ALTER TABLE al ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP;
  INSERT INTO al SELECT * FROM al_src WHERE id <= preload;
  IF ddl <> '' THEN EXECUTE ddl; END IF;
  COMMIT;
  CHECKPOINT;
  lsn0 := pg_current_wal_insert_lsn(); t0 := clock_timestamp();
  INSERT INTO al SELECT * FROM al_src WHERE id > preload AND id <= preload + batch;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
  wal := pg_current_wal_insert_lsn() - lsn0;
  SELECT coalesce(sum(pg_relation_size(indexrelid)), 0) INTO ib FROM pg_index WHERE indrelid = 'al'::regclass;
  tb := pg_table_size('al');
  INSERT INTO write_cost VALUES (config, ms, wal, ib, tb);
  COMMIT;
END $$;
