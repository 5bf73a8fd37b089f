-- Objects every variant database gets after its data is loaded (psql variable: tsrows).
-- The data itself comes from bench/load_posts.sql, loaded once and copied to every database.
-- bench_keys numbers the posts 1..N in id order (random for uuid v4 keys), so a
-- pgbench script picks a post by number; bench_delete_seq hands out rows to delete.
CREATE TABLE bench_keys (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_keys SELECT row_number() OVER (ORDER BY id), id FROM posts;
CREATE SEQUENCE bench_delete_seq;

-- Two users of our own: the writer of single-row INSERTs and the owner of bulk rows.
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-00000000b001', 'writer@bench.example', 'Bench writer', 'x'),
       ('00000000-0000-4000-8000-00000000b002', 'bulk@bench.example', 'Bench bulk', 'x');

-- A table whose only trigger maintains updated_at.
CREATE TABLE ts_items (
    id int PRIMARY KEY,
    body text NOT NULL,
    updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO ts_items (id, body, updated_at)
SELECT i, 'body ' || i, timestamp '2025-01-01' FROM generate_series(1, :tsrows) i;
