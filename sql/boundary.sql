-- The C/C++ boundary (src/pg): errors keep their SQLSTATE, message, detail and
-- hint across it, and failing calls neither skip C++ destructors nor leak.
-- Driven through chronicle_boundary_test, a test-only module that links the
-- extension's boundary code (test/boundary).
\i sql/include/catch_error.sql
\pset null '(null)'
\x on

CREATE FUNCTION boundary_spi_execute(text) RETURNS bigint
    LANGUAGE C STRICT AS 'chronicle_boundary_test', 'boundary_spi_execute';
CREATE FUNCTION boundary_throw_error(text, text, text, text) RETURNS void
    LANGUAGE C AS 'chronicle_boundary_test', 'boundary_throw_error';
CREATE FUNCTION boundary_throw_std(text) RETURNS void
    LANGUAGE C STRICT AS 'chronicle_boundary_test', 'boundary_throw_std';
CREATE FUNCTION boundary_pg_call_error(text) RETURNS int
    LANGUAGE C STRICT AS 'chronicle_boundary_test', 'boundary_pg_call_error';
CREATE FUNCTION boundary_live_objects() RETURNS bigint
    LANGUAGE C STRICT AS 'chronicle_boundary_test', 'boundary_live_objects';

CREATE TABLE boundary_keys (id int PRIMARY KEY, label text CHECK (label <> ''));
INSERT INTO boundary_keys VALUES (1, 'one');

-- A query through SPI works and returns its row count.
SELECT boundary_spi_execute('INSERT INTO boundary_keys VALUES (2, ''two'')') AS inserted;

-- A unique violation deep inside SPI reaches the client as 23505 with its detail
-- and the constraint's table.
SELECT * FROM pg_temp.catch_error($$SELECT boundary_spi_execute('INSERT INTO boundary_keys VALUES (1, ''again'')')$$);
-- A check violation likewise keeps 23514 and names its table.
SELECT * FROM pg_temp.catch_error($$SELECT boundary_spi_execute('INSERT INTO boundary_keys VALUES (3, '''')')$$);
-- A syntax error keeps 42601.
SELECT code, message FROM pg_temp.catch_error($$SELECT boundary_spi_execute('INSERT INTO')$$);
-- Nothing of a failed statement stays behind.
SELECT id, label FROM boundary_keys ORDER BY id;

-- A PostgreSQL error raised inside pg_call keeps its SQLSTATE.
SELECT code, message FROM pg_temp.catch_error($$SELECT boundary_pg_call_error('twelve')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT boundary_pg_call_error('99999999999')$$);
SELECT boundary_pg_call_error('12') AS parsed;

-- A chronicle::Error thrown by C++ becomes an ERROR with all of its fields.
SELECT * FROM pg_temp.catch_error($$SELECT boundary_throw_error('22023', 'bad value', 'the detail', 'the hint')$$);
SELECT code, message, detail, hint FROM pg_temp.catch_error($$SELECT boundary_throw_error('P0002', 'not found', NULL, NULL)$$);
-- A malformed SQLSTATE in C++ code is reported as an internal error, not a crash.
SELECT code, message FROM pg_temp.catch_error($$SELECT boundary_throw_error('bad', 'odd code', NULL, NULL)$$);

-- Other C++ exceptions become clean errors too.
SELECT code, message FROM pg_temp.catch_error($$SELECT boundary_throw_std('bad_alloc')$$);
SELECT code, message, detail FROM pg_temp.catch_error($$SELECT boundary_throw_std('runtime_error')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT boundary_throw_std('int')$$);

-- Every destructor ran.
SELECT boundary_live_objects() AS live_objects;
\x off

-- 100,000 failing calls leave the backend's memory flat. Each call fails with C++
-- objects alive (4 KB of std::string and a vector of strings per Tracker, malloc'd
-- outside PostgreSQL's memory contexts): a skipped destructor would show in
-- live_objects and in the process's private resident memory (100,000 x ~6 KB =
-- ~600 MB). RssAnon, not VmRSS: VmRSS also counts the shared buffers and SLRU
-- pages the backend touches, which grow with any work.
CREATE FUNCTION pg_temp.backend_private_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'RssAnon:\s+(\d+) kB'))[1]::bigint
$$;
CREATE FUNCTION pg_temp.context_bytes() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts
$$;
CREATE FUNCTION pg_temp.fail_many(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    failures int := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            CASE i % 3
                WHEN 0 THEN PERFORM boundary_spi_execute('INSERT INTO boundary_keys VALUES (1, ''dup'')');
                WHEN 1 THEN PERFORM boundary_throw_error('22023', 'bad value', 'detail', 'hint');
                ELSE PERFORM boundary_pg_call_error('not a number');
            END CASE;
        EXCEPTION WHEN unique_violation OR invalid_parameter_value OR invalid_text_representation THEN
            failures := failures + 1;
        END;
    END LOOP;
    RETURN failures;
END
$$;
-- Warm up (plan caches, first allocations), then measure.
SELECT pg_temp.fail_many(3000) AS warm_up_failures;
CREATE TEMP TABLE memory_before AS SELECT pg_temp.backend_private_kb() AS private_kb, pg_temp.context_bytes() AS context_bytes;
SELECT pg_temp.fail_many(100000) AS failures;
SELECT boundary_live_objects() AS live_objects_after_100000_failures,
       -- Under a memory checker (scripts/sanitize and scripts/valgrind-regress set
       -- chronicle_test.memory_checker) freed memory waits in a quarantine: RSS grows.
       (pg_temp.backend_private_kb() - private_kb < 1024 OR current_setting('chronicle_test.memory_checker', true) = 'on')
           AS private_memory_grew_less_than_1_mb,
       pg_temp.context_bytes() - context_bytes < 256 * 1024 AS contexts_grew_less_than_256_kb
FROM memory_before;

DROP TABLE boundary_keys, memory_before;
DROP FUNCTION boundary_spi_execute(text), boundary_throw_error(text, text, text, text),
    boundary_throw_std(text), boundary_pg_call_error(text), boundary_live_objects();
