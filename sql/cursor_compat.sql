-- Cursors issued before chronicle signed them with PostgreSQL's HMAC
-- (pg_hmac_*, 1.2) still verify: the literal cursor below was issued by the
-- earlier, self-contained HMAC-SHA-256 for the same secret, user, status and row.
-- The tag is HMAC-SHA-256 either way, so the two must agree byte for byte.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql

INSERT INTO users (id, email, name, password_hash) VALUES
    ('00000000-0000-4000-8000-000000000001', 'alice@example.com', 'Alice', 'x');
INSERT INTO posts (id, user_id, title, content, status, published_at, created_at)
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       '00000000-0000-4000-8000-000000000001', 'post ' || i, 'body ' || i, 'published',
       TIMESTAMP '2026-01-01' + i * INTERVAL '1 hour', TIMESTAMP '2025-12-01' + i * INTERVAL '1 minute'
  FROM generate_series(1, 6) AS i;
UPDATE cursor_secret SET secret = decode(repeat('ab', 32), 'hex');
-- Sessions read the secret once: a new session sees the one just set.
\c
\i sql/include/catch_error.sql

-- Today's cursor for the first page of 2 is the one issued before.
SELECT next_cursor = 'AQAAAupKZTbwAAAC59d8IdwAEAAAAAAAQACAAAAAAAAABJsPQUMrqwp-s9TfsPk92mA'
       AS same_as_before
  FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 2) LIMIT 1;
-- And the cursor issued before opens the second page.
SELECT title FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 2,
    'AQAAAupKZTbwAAAC59d8IdwAEAAAAAAAQACAAAAAAAAABJsPQUMrqwp-s9TfsPk92mA');
-- The same cursor with one bit of its tag flipped is refused.
SELECT code, message, detail FROM pg_temp.catch_error($$SELECT * FROM get_user_posts_keyset(
    '00000000-0000-4000-8000-000000000001', 'published', 2,
    'AQAAAupKZTbwAAAC59d8IdwAEAAAAAAAQACAAAAAAAAABJsPQUMrqwp-s9TfsPk92mQ')$$);

DROP EXTENSION chronicle CASCADE;
