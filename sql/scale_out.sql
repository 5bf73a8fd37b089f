-- chronicle >= 1.2
-- Scale-out by user_id (doc/scale-out.md), checked on one plain PostgreSQL node.
-- Distributing users, posts and audit_logs by the owner's user_id works only if:
--   1. every audit row of a posts change names the post's owner, so it can be
--      stored on the owner's shard (audit_logs.user_id is the actor, not the owner);
--   2. a transaction that writes one user's rows writes audit rows for that user
--      only (one shard), also through ON DELETE CASCADE;
-- and it costs:
--   3. the global order of audit_logs.id, once each shard draws ids from its own
--      sequence.
-- A shard here is a stand-in for a hash of the owner: the last byte of the uuid,
-- modulo 2. Citus itself cannot be installed here; doc/scale-out.md says what only
-- a Citus cluster can prove.
CREATE EXTENSION chronicle;

CREATE FUNCTION pg_temp.shard_of(owner uuid) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT get_byte(uuid_send(owner), 15) % 2
$$;
-- The owner of the row an audit row is about: the user_id of its image.
CREATE FUNCTION pg_temp.owner_of(old_data jsonb, new_data jsonb) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT (COALESCE(new_data, old_data) ->> 'user_id')::uuid
$$;
-- Names for the output, kept apart from users (a user is deleted below).
CREATE TEMP TABLE people (id uuid PRIMARY KEY, name text);
CREATE FUNCTION pg_temp.name_of(id uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT p.name FROM people p WHERE p.id = name_of.id), 'none')
$$;
-- The shards that the audit rows written after audit id `since` belong to.
CREATE FUNCTION pg_temp.shards_since(since bigint) RETURNS int[] LANGUAGE sql STABLE AS $$
    SELECT COALESCE(array_agg(DISTINCT pg_temp.shard_of(pg_temp.owner_of(a.old_data, a.new_data))), '{}')
      FROM audit_logs a WHERE a.id > since
$$;

INSERT INTO users (id, email, name, password_hash) VALUES
    ('00000000-0000-4000-8000-000000000001', 'alice@example.com', 'alice', 'x'),
    ('00000000-0000-4000-8000-000000000002', 'bob@example.com', 'bob', 'x'),
    ('00000000-0000-4000-8000-000000000004', 'carol@example.com', 'carol', 'x'),
    ('00000000-0000-4000-8000-00000000000a', 'mod@example.com', 'moderator', 'x');
INSERT INTO people SELECT id, name FROM users;
SELECT name, pg_temp.shard_of(id) AS shard FROM users ORDER BY name;

-- Each transaction below acts for one user, as an application routed by user_id
-- would. After each, the shards its audit rows belong to: exactly one.
SELECT coalesce(max(id), 0) AS before FROM audit_logs \gset
BEGIN;
SET LOCAL chronicle.actor_id = '00000000-0000-4000-8000-000000000001';
INSERT INTO posts (id, user_id, title, content) VALUES
    ('00000000-0000-4000-9000-000000000011', '00000000-0000-4000-8000-000000000001', 'a1', 'first'),
    ('00000000-0000-4000-9000-000000000012', '00000000-0000-4000-8000-000000000001', 'a2', 'second');
UPDATE posts SET status = 'published', title = 'a1, edited' WHERE id = '00000000-0000-4000-9000-000000000011';
COMMIT;
SELECT pg_temp.shards_since(:before) AS alice_transaction;

SELECT coalesce(max(id), 0) AS before FROM audit_logs \gset
BEGIN;
SET LOCAL chronicle.actor_id = '00000000-0000-4000-8000-000000000002';
INSERT INTO posts (id, user_id, title, content, status) VALUES
    ('00000000-0000-4000-9000-000000000021', '00000000-0000-4000-8000-000000000002', 'b1', 'hello', 'published');
COMMIT;
SELECT pg_temp.shards_since(:before) AS bob_transaction;

-- A moderator archives bob's post: the actor is the moderator, the owner is bob.
-- The audit row belongs on bob's shard, whoever acted.
SELECT coalesce(max(id), 0) AS before FROM audit_logs \gset
BEGIN;
SET LOCAL chronicle.actor_id = '00000000-0000-4000-8000-00000000000a';
UPDATE posts SET status = 'archived' WHERE id = '00000000-0000-4000-9000-000000000021';
COMMIT;
SELECT pg_temp.shards_since(:before) AS moderator_transaction;

-- No actor set: audit_logs.user_id falls back to the row's user_id (the owner).
SELECT coalesce(max(id), 0) AS before FROM audit_logs \gset
INSERT INTO posts (id, user_id, title, content) VALUES
    ('00000000-0000-4000-9000-000000000041', '00000000-0000-4000-8000-000000000004', 'c1', 'draft');
SELECT pg_temp.shards_since(:before) AS carol_transaction;

-- A view is not an edit (1.2): no audit row, so nothing to route.
SELECT coalesce(max(id), 0) AS before FROM audit_logs \gset
SELECT increment_post_views('00000000-0000-4000-9000-000000000011');
SELECT pg_temp.shards_since(:before) AS view_transaction;

-- Deleting a user cascades to their posts: every audit row is that user's.
SELECT coalesce(max(id), 0) AS before FROM audit_logs \gset
DELETE FROM users WHERE id = '00000000-0000-4000-8000-000000000004';
SELECT pg_temp.shards_since(:before) AS cascade_transaction;

-- 1. Every audit row of posts, in write order: who acted, whose row it is, and
-- the shard it belongs on. The owner is never missing; the actor is not the
-- owner when the moderator acts, so audit_logs.user_id cannot be the key.
SELECT a.operation, pg_temp.name_of(a.user_id) AS actor,
       pg_temp.name_of(pg_temp.owner_of(a.old_data, a.new_data)) AS owner,
       pg_temp.shard_of(pg_temp.owner_of(a.old_data, a.new_data)) AS shard,
       a.changed_fields
  FROM audit_logs a WHERE a.table_name = 'posts' ORDER BY a.id;
SELECT count(*) AS audit_rows_without_owner
  FROM audit_logs a WHERE pg_temp.owner_of(a.old_data, a.new_data) IS NULL;

-- An UPDATE that gives a post to another user moves it between shards: its
-- audit row has two owners. Citus refuses such an UPDATE (the distribution
-- column cannot change); on one node it is allowed, and this is the one audit
-- row that could not be stored next to a single owner.
UPDATE posts SET user_id = '00000000-0000-4000-8000-000000000002' WHERE id = '00000000-0000-4000-9000-000000000012';
SELECT a.operation, pg_temp.name_of((a.old_data ->> 'user_id')::uuid) AS old_owner,
       pg_temp.name_of((a.new_data ->> 'user_id')::uuid) AS new_owner
  FROM audit_logs a
 WHERE (a.old_data ->> 'user_id') IS DISTINCT FROM (a.new_data ->> 'user_id')
   AND a.old_data IS NOT NULL AND a.new_data IS NOT NULL;

-- post_counts is keyed by (user_id, status): each user's counts live with them.
SELECT pg_temp.name_of(user_id) AS owner, pg_temp.shard_of(user_id) AS shard, status, post_count
  FROM post_counts ORDER BY 1, 3;

-- 3. What a sequence per shard does to the order of ids. Citus gives each node
-- its own range of a bigint sequence; here shard 0 draws from 1 up and shard 1
-- from 2^48 up, in the order the rows were written.
CREATE TEMP SEQUENCE shard0_ids START 1;
CREATE TEMP SEQUENCE shard1_ids START 281474976710657;
CREATE TEMP TABLE sharded_ids (id bigint, shard int, shard_id bigint);
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.id, pg_temp.shard_of(pg_temp.owner_of(a.old_data, a.new_data)) AS shard
               FROM audit_logs a ORDER BY a.id LOOP
        INSERT INTO sharded_ids VALUES
            (r.id, r.shard, CASE r.shard WHEN 0 THEN nextval('shard0_ids') ELSE nextval('shard1_ids') END);
    END LOOP;
END
$$;
-- Written order against the order of the shard ids: they differ as soon as a
-- row of shard 0 follows one of shard 1.
SELECT row_number() OVER (ORDER BY id) AS written, shard,
       row_number() OVER (ORDER BY shard_id) AS by_shard_id
  FROM sharded_ids ORDER BY id;
SELECT count(*) FILTER (WHERE written <> by_shard_id) AS rows_out_of_order, count(*) AS audit_rows
  FROM (SELECT row_number() OVER (ORDER BY id) AS written,
               row_number() OVER (ORDER BY shard_id) AS by_shard_id FROM sharded_ids) o;
-- Within one shard the order holds: ids of a shard rise with the written order.
SELECT shard, bool_and(in_order) AS ordered_within_shard
  FROM (SELECT shard, id > coalesce(lag(id) OVER (PARTITION BY shard ORDER BY shard_id), 0) AS in_order
          FROM sharded_ids) s
 GROUP BY shard ORDER BY shard;

DROP EXTENSION chronicle;
