-- How the audit writer stores row images: compressed as the row is written
-- (PostgreSQL itself would compress only rows over about 2 kB), exact when read
-- back, and as the DBA configured the audit_logs columns.
CREATE EXTENSION chronicle;
\pset null '(null)'

CREATE TABLE audit_store (
    id uuid PRIMARY KEY,
    body text,
    note text
);
SELECT enable_audit('audit_store');

-- A typical row (about 600 bytes of JSON): both images are compressed, with lz4
-- (this server has it) since the column names no method; a small row is not.
INSERT INTO audit_store VALUES ('11111111-1111-1111-1111-111111111111',
                                repeat('An edited paragraph of a post. ', 18), 'first');
UPDATE audit_store SET note = 'second';
INSERT INTO audit_store VALUES ('22222222-2222-2222-2222-222222222222', 'short', NULL);
SELECT a.operation, a.record_id,
       pg_column_compression(a.old_data) AS old_compression,
       pg_column_compression(a.new_data) AS new_compression,
       pg_column_size(a.new_data) < octet_length(a.new_data::text) / 2 AS new_under_half
  FROM audit_logs a ORDER BY a.id;

-- Read back, the images are exactly to_jsonb of the rows, and jsonb operators,
-- containment and changed_fields work on them as on any value.
SELECT count(*) AS exact_rows
  FROM audit_logs a JOIN audit_store s ON s.id = a.record_id
 WHERE a.id = (SELECT max(b.id) FROM audit_logs b WHERE b.record_id = s.id)
   AND a.new_data = to_jsonb(s);
SELECT a.old_data ->> 'note' AS old_note, a.new_data ->> 'note' AS new_note, a.changed_fields,
       a.new_data @> '{"note": "second"}' AS contains
  FROM audit_logs a WHERE a.operation = 'UPDATE';

-- Each image is compressed on its own: rows written by one statement, their
-- images nearly alike, each read back exactly and alone. An image that does
-- not compress (random hex) is stored as it is.
TRUNCATE audit_logs;
INSERT INTO audit_store
SELECT ('44444444-4444-4444-4444-' || lpad(i::text, 12, '0'))::uuid,
       repeat('An edited paragraph of a post. ', 10 + i % 3), 'batch ' || i
  FROM generate_series(1, 50) i;
INSERT INTO audit_store
SELECT md5('hex')::uuid, string_agg(md5(i::text), ''), NULL
  FROM generate_series(1, 8) i;
SELECT pg_column_compression(a.new_data) AS new_compression, count(*) AS audit_rows,
       count(*) FILTER (WHERE a.new_data = to_jsonb(s)) AS exact_rows
  FROM audit_logs a JOIN audit_store s ON s.id = a.record_id
 GROUP BY 1 ORDER BY 1;
SELECT a.new_data ->> 'note' AS note FROM audit_logs a
 WHERE a.record_id = '44444444-4444-4444-4444-000000000037';

-- The DBA decides: a method set on the column is used; EXTERNAL (or PLAIN)
-- storage means never compressed.
TRUNCATE audit_logs;
ALTER TABLE audit_logs ALTER COLUMN new_data SET COMPRESSION pglz;
ALTER TABLE audit_logs ALTER COLUMN old_data SET STORAGE EXTERNAL;
UPDATE audit_store SET note = 'third' WHERE id = '11111111-1111-1111-1111-111111111111';
SELECT pg_column_compression(old_data) AS old_compression, pg_column_compression(new_data) AS new_compression,
       new_data = (SELECT to_jsonb(s) FROM audit_store s WHERE s.id = record_id) AS exact
  FROM audit_logs;
ALTER TABLE audit_logs ALTER COLUMN new_data SET COMPRESSION default;
ALTER TABLE audit_logs ALTER COLUMN old_data SET STORAGE EXTENDED;

-- A row too big for the page still goes to TOAST, its images compressed first.
TRUNCATE audit_logs;
INSERT INTO audit_store
SELECT '33333333-3333-3333-3333-333333333333', string_agg(md5(i::text), ''), 'big'
  FROM generate_series(1, 400) i;
SELECT pg_column_compression(new_data) AS new_compression,
       pg_column_size(new_data) > 8000 AS stored_out_of_line,
       new_data = (SELECT to_jsonb(s) FROM audit_store s WHERE s.note = 'big') AS exact
  FROM audit_logs;

DROP TABLE audit_store;
DROP EXTENSION chronicle;
