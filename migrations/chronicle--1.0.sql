/* chronicle 1.0: the reference schema (V001-V004), with native triggers. */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION chronicle" to load this file. \quit

-- Every object is named through @extschema@, every function and operator whose
-- resolution could be captured by an object planted in a schema on the
-- search_path is qualified with pg_catalog.

-- ---------------------------------------------------------------------------
-- V001: users
-- ---------------------------------------------------------------------------
CREATE TABLE @extschema@.users (
    id UUID PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    email VARCHAR(255) NOT NULL,
    name VARCHAR(100) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at TIMESTAMP,  -- Soft delete (NULL = active)

    -- Metadata
    created_by UUID,
    updated_by UUID,
    -- Deviation from the reference (CONTRACT.md): the TLD class is [A-Za-z]; the
    -- reference's [A-Z|a-z] also accepted '|'.
    CONSTRAINT users_email_format CHECK (
        email::text OPERATOR(pg_catalog.~*) '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$'::text
    ),
    CONSTRAINT users_name_length CHECK (pg_catalog.length(name::text) OPERATOR(pg_catalog.>=) 2)
);

-- Unique constraint (only for active users, ignore deleted)
CREATE UNIQUE INDEX idx_users_email_unique ON @extschema@.users(email)
    WHERE deleted_at IS NULL;

-- Indices for common queries
CREATE INDEX idx_users_email ON @extschema@.users(email);
CREATE INDEX idx_users_created_at ON @extschema@.users(created_at DESC);
CREATE INDEX idx_users_deleted_at ON @extschema@.users(deleted_at)
    WHERE deleted_at IS NOT NULL;  -- Partial index for soft-deleted users
CREATE INDEX idx_users_email_verified ON @extschema@.users(email_verified)
    WHERE email_verified OPERATOR(pg_catalog.=) FALSE;  -- Partial index for unverified users

COMMENT ON TABLE @extschema@.users IS 'User accounts with email verification and soft delete support';
COMMENT ON COLUMN @extschema@.users.id IS 'Primary key (UUID v4)';
COMMENT ON COLUMN @extschema@.users.email IS 'User email address (unique, validated by CHECK constraint)';
COMMENT ON COLUMN @extschema@.users.password_hash IS 'bcrypt hash (do NOT store plaintext passwords)';
COMMENT ON COLUMN @extschema@.users.email_verified IS 'Email verification status (default: false)';
COMMENT ON COLUMN @extschema@.users.deleted_at IS 'Soft delete timestamp (NULL = active, non-NULL = deleted)';

-- ---------------------------------------------------------------------------
-- V002: posts
-- ---------------------------------------------------------------------------
CREATE TABLE @extschema@.posts (
    id UUID PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id UUID NOT NULL,
    title VARCHAR(200) NOT NULL,
    content TEXT NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'draft',
    published_at TIMESTAMP,
    view_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,

    -- Foreign key with CASCADE delete
    CONSTRAINT fk_posts_user FOREIGN KEY (user_id)
        REFERENCES @extschema@.users(id)
        ON DELETE CASCADE
        ON UPDATE CASCADE,

    -- Check constraints
    CONSTRAINT posts_status_check CHECK (
        status::text OPERATOR(pg_catalog.=) ANY (ARRAY['draft', 'published', 'archived']::text[])
    ),
    CONSTRAINT posts_published_at_check CHECK (
        (status::text OPERATOR(pg_catalog.=) 'published'::text AND published_at IS NOT NULL) OR
        (status::text OPERATOR(pg_catalog.<>) 'published'::text)
    ),
    CONSTRAINT posts_view_count_positive CHECK (view_count OPERATOR(pg_catalog.>=) 0)
);

-- Indices for common queries
CREATE INDEX idx_posts_user_id ON @extschema@.posts(user_id);

-- Partial index for published posts only
CREATE INDEX idx_posts_status_published ON @extschema@.posts(status, published_at DESC)
    WHERE status::text OPERATOR(pg_catalog.=) 'published'::text;

-- Composite index for user's posts filtered by status
CREATE INDEX idx_posts_user_status_date ON @extschema@.posts(
    user_id,
    status,
    created_at DESC
);

-- Covering index (includes all columns needed for post listing query)
CREATE INDEX idx_posts_covering_list ON @extschema@.posts(user_id, status)
    INCLUDE (title, published_at, view_count)
    WHERE status::text OPERATOR(pg_catalog.=) 'published'::text;

-- Functional index for case-insensitive title search
CREATE INDEX idx_posts_title_lower ON @extschema@.posts(pg_catalog.lower(title::text));

COMMENT ON TABLE @extschema@.posts IS 'User posts with status workflow (draft → published → archived)';
COMMENT ON COLUMN @extschema@.posts.status IS 'Post status: draft (not visible), published (public), archived (hidden)';
COMMENT ON COLUMN @extschema@.posts.published_at IS 'Publication timestamp (set when status changes to published)';
COMMENT ON COLUMN @extschema@.posts.view_count IS 'Number of times post was viewed (denormalized for performance)';

-- ---------------------------------------------------------------------------
-- V003: audit_logs
-- ---------------------------------------------------------------------------
CREATE TABLE @extschema@.audit_logs (
    id BIGSERIAL PRIMARY KEY,
    table_name VARCHAR(50) NOT NULL,
    operation VARCHAR(10) NOT NULL,  -- INSERT, UPDATE, DELETE
    record_id UUID,
    user_id UUID,
    old_data JSONB,  -- Snapshot before change
    new_data JSONB,  -- Snapshot after change
    changed_fields TEXT[],  -- Array of field names that changed
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT audit_logs_operation_check CHECK (
        operation::text OPERATOR(pg_catalog.=) ANY (ARRAY['INSERT', 'UPDATE', 'DELETE']::text[])
    )
);

-- Indices for audit queries
CREATE INDEX idx_audit_table_operation ON @extschema@.audit_logs(table_name, operation);
CREATE INDEX idx_audit_record_id ON @extschema@.audit_logs(record_id);
CREATE INDEX idx_audit_user_id ON @extschema@.audit_logs(user_id);
CREATE INDEX idx_audit_created_at ON @extschema@.audit_logs(created_at DESC);

-- GIN index for JSONB queries (find changes to specific fields)
CREATE INDEX idx_audit_old_data_gin ON @extschema@.audit_logs USING GIN (old_data);
CREATE INDEX idx_audit_new_data_gin ON @extschema@.audit_logs USING GIN (new_data);

COMMENT ON TABLE @extschema@.audit_logs IS 'Audit trail for all data changes (compliance, debugging)';
COMMENT ON COLUMN @extschema@.audit_logs.old_data IS 'Full row data before change (NULL for INSERT)';
COMMENT ON COLUMN @extschema@.audit_logs.new_data IS 'Full row data after change (NULL for DELETE)';
COMMENT ON COLUMN @extschema@.audit_logs.changed_fields IS 'Array of column names that were modified (UPDATE only)';

-- The audit log is append-only for everyone but its owner: no grants at all to
-- PUBLIC. chronicle's own trigger writes it whatever the writer's privileges.
REVOKE ALL ON TABLE @extschema@.audit_logs FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.audit_logs_id_seq FROM PUBLIC;

-- pg_dump keeps the rows of every table and the position of every sequence.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.users', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.posts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_logs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_logs_id_seq', '');

-- ---------------------------------------------------------------------------
-- V004: triggers (native)
-- ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.update_updated_at_column()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'chronicle_update_updated_at_column';

CREATE FUNCTION @extschema@.set_published_at()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'chronicle_set_published_at';

CREATE TRIGGER users_updated_at_trigger
    BEFORE UPDATE ON @extschema@.users
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.update_updated_at_column();

CREATE TRIGGER posts_updated_at_trigger
    BEFORE UPDATE ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.update_updated_at_column();

CREATE TRIGGER posts_set_published_at
    BEFORE INSERT OR UPDATE ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.set_published_at();

COMMENT ON FUNCTION @extschema@.update_updated_at_column() IS 'Auto-update updated_at timestamp on row modification';
COMMENT ON FUNCTION @extschema@.set_published_at() IS 'Auto-set published_at when post status changes to published';

-- ---- audit trigger (issue: native audit trigger) ----
-- Native: old_data/new_data equal to_jsonb(OLD/NEW), changed_fields over every
-- column, options key=value (ignore=<cols>, record_id=<col>). The function writes
-- audit_logs itself, without the caller's privileges on it, so an application
-- role gets its audit rows without being able to write the log. Attaching it to a
-- table is therefore not for everyone: no EXECUTE for PUBLIC (CREATE TRIGGER
-- needs it; firing does not).
CREATE FUNCTION @extschema@.audit_trigger_function()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'chronicle_audit_trigger_function';

REVOKE ALL ON FUNCTION @extschema@.audit_trigger_function() FROM PUBLIC;

CREATE TRIGGER posts_audit_trigger
    AFTER INSERT OR UPDATE OR DELETE ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.audit_trigger_function();

COMMENT ON FUNCTION @extschema@.audit_trigger_function() IS 'Log all data changes to audit_logs table';

-- ---- posts API (issue: native posts API) ----

-- Indexes in the exact order of get_user_posts (published_at DESC NULLS LAST,
-- created_at DESC, id DESC): a page is read straight off the index, never
-- sorted, and the trailing key columns make a deep OFFSET an index-only walk.
-- The reference's indexes order by created_at only (or lack id), so they cannot
-- serve this order without a sort of every matching row.
--   idx_posts_user_status_order: p_status given (the common 'published' case).
--   idx_posts_user_order:        p_status NULL (every status of one user).
CREATE INDEX idx_posts_user_status_order ON @extschema@.posts
    (user_id, status, published_at DESC NULLS LAST, created_at DESC, id DESC);
CREATE INDEX idx_posts_user_order ON @extschema@.posts
    (user_id, published_at DESC NULLS LAST, created_at DESC, id DESC);
-- get_popular_posts reads the last p_days days of published posts and keeps
-- the top p_limit by view_count: this index hands it that date range with every
-- column it needs (an index-only scan, no heap visit per post), ~5x faster than
-- idx_posts_status_published plus heap fetches on a million posts.
CREATE INDEX idx_posts_published_popular ON @extschema@.posts (published_at DESC)
    INCLUDE (view_count, id, user_id, title)
    WHERE status::text OPERATOR(pg_catalog.=) 'published'::text;

-- post_counts: the number of posts per (user_id, status), exact in every
-- snapshot, so that get_user_posts' total_count is two index lookups instead
-- of a count of every matching row. It is kept without long-held row locks, so
-- that writers that share no post never wait for (or deadlock with) each other:
--   * every write to posts appends signed deltas to post_count_deltas (an
--     insert conflicts with nothing), in the writing transaction;
--   * the writer then folds the deltas of that (user_id, status) into
--     post_count_totals, if it gets the pair's advisory lock without waiting
--     (pg_try_advisory_xact_lock) and runs under READ COMMITTED; otherwise the
--     next writer of the pair folds them. Only the lock holder touches the
--     pair's totals row or deletes its deltas, so no writer ever waits there.
--   * post_counts (a view, owner only) = totals + deltas not folded yet: exact
--     in any snapshot, as a fold moves deltas into totals atomically.
-- The tables are written by the triggers below as their owner and are dumped
-- with the posts they count (restores run with triggers disabled).
CREATE TABLE @extschema@.post_count_totals (
    user_id UUID NOT NULL,
    status VARCHAR(20) NOT NULL,
    post_count BIGINT NOT NULL,
    CONSTRAINT post_count_totals_pkey PRIMARY KEY (user_id, status)
);
CREATE TABLE @extschema@.post_count_deltas (
    user_id UUID NOT NULL,
    status VARCHAR(20) NOT NULL,
    delta BIGINT NOT NULL
);
CREATE INDEX post_count_deltas_key ON @extschema@.post_count_deltas (user_id, status);
CREATE VIEW @extschema@.post_counts AS
    SELECT n.user_id, n.status, pg_catalog.sum(n.post_count)::BIGINT AS post_count
      FROM (SELECT t.user_id, t.status, t.post_count FROM @extschema@.post_count_totals t
            UNION ALL
            SELECT d.user_id, d.status, d.delta FROM @extschema@.post_count_deltas d) AS n
     GROUP BY n.user_id, n.status
    HAVING pg_catalog.sum(n.post_count) OPERATOR(pg_catalog.<>) 0;
COMMENT ON TABLE @extschema@.post_count_totals IS 'Posts per (user_id, status) up to the last fold (see post_counts)';
COMMENT ON TABLE @extschema@.post_count_deltas IS 'Changes to post_count_totals not folded into it yet (see post_counts)';
COMMENT ON VIEW @extschema@.post_counts IS 'Posts per (user_id, status), maintained by triggers on posts (total_count of get_user_posts)';
REVOKE ALL ON TABLE @extschema@.post_count_totals FROM PUBLIC;
REVOKE ALL ON TABLE @extschema@.post_count_deltas FROM PUBLIC;
REVOKE ALL ON TABLE @extschema@.post_counts FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.post_count_totals', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.post_count_deltas', '');

-- Native: one pass over the statement's transition table (or the row's old and
-- new keys), then per (user_id, status) in key order: append the delta, fold if
-- the pair's lock is free; written as the tables' owner
-- (src/posts/post_counts_triggers.cpp). Not SECURITY DEFINER: only those writes
-- switch to the owner, nothing else runs with its rights.
CREATE FUNCTION @extschema@.post_counts_after_insert()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'chronicle_post_counts_after_insert';

CREATE FUNCTION @extschema@.post_counts_after_delete()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'chronicle_post_counts_after_delete';

CREATE FUNCTION @extschema@.post_counts_after_update()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'chronicle_post_counts_after_update';

CREATE FUNCTION @extschema@.post_counts_after_truncate()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> '@extschema@.posts'::regclass OR TG_LEVEL <> 'STATEMENT' OR TG_OP <> 'TRUNCATE' THEN
        RAISE EXCEPTION 'post_counts_after_truncate() maintains post_counts for posts only'
            USING ERRCODE = '39P01';
    END IF;
    DELETE FROM @extschema@.post_count_totals;
    DELETE FROM @extschema@.post_count_deltas;
    RETURN NULL;
END
$$;

-- Recounts post_counts from posts, for after a bulk load that ran with triggers
-- disabled (session_replication_role = replica). Blocks writers to posts while
-- it runs. Owner only.
CREATE FUNCTION @extschema@.refresh_post_counts()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    LOCK TABLE @extschema@.posts IN SHARE MODE;
    DELETE FROM @extschema@.post_count_deltas;
    DELETE FROM @extschema@.post_count_totals;
    INSERT INTO @extschema@.post_count_totals (user_id, status, post_count)
    SELECT p.user_id, p.status, count(*) FROM @extschema@.posts p GROUP BY p.user_id, p.status;
END
$$;

-- Trigger functions that write as the owner must not be attachable to other
-- tables (CREATE TRIGGER needs EXECUTE); firing on posts needs no privilege.
REVOKE ALL ON FUNCTION @extschema@.post_counts_after_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.post_counts_after_delete() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.post_counts_after_update() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.post_counts_after_truncate() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.refresh_post_counts() FROM PUBLIC;

-- Statement-level with transition tables: one pass and one delta per key per statement,
-- whether it inserts one row, a million (INSERT ... SELECT, COPY) or deletes
-- through ON DELETE CASCADE from users. UPDATE cannot combine a column list with
-- transition tables; the row trigger fires only when user_id or status really
-- changes (so increment_post_views never fires it).
CREATE TRIGGER posts_count_insert
    AFTER INSERT ON @extschema@.posts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@.post_counts_after_insert();
CREATE TRIGGER posts_count_delete
    AFTER DELETE ON @extschema@.posts
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@.post_counts_after_delete();
CREATE TRIGGER posts_count_update
    AFTER UPDATE OF user_id, status ON @extschema@.posts
    FOR EACH ROW
    WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.status::text IS DISTINCT FROM NEW.status::text)
    EXECUTE FUNCTION @extschema@.post_counts_after_update();
CREATE TRIGGER posts_count_truncate
    AFTER TRUNCATE ON @extschema@.posts
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@.post_counts_after_truncate();

COMMENT ON FUNCTION @extschema@.post_counts_after_insert() IS 'Adds inserted posts to post_counts';
COMMENT ON FUNCTION @extschema@.post_counts_after_delete() IS 'Removes deleted posts from post_counts';
COMMENT ON FUNCTION @extschema@.post_counts_after_update() IS 'Moves a post between post_counts rows when its user_id or status changes';
COMMENT ON FUNCTION @extschema@.post_counts_after_truncate() IS 'Empties post_counts when posts is truncated';
COMMENT ON FUNCTION @extschema@.refresh_post_counts() IS 'Recounts post_counts from posts (after a load with triggers disabled)';

-- The API. SECURITY INVOKER: each runs with the caller's privileges on users and
-- posts (an application role needs USAGE on the schema and SELECT/UPDATE on the
-- tables it touches). Plans are prepared once per backend; every query is
-- schema-qualified and search_path-proof.
CREATE FUNCTION @extschema@.get_user_posts(
    p_user_id UUID,
    p_status VARCHAR DEFAULT 'published',
    p_limit INT DEFAULT 10,
    p_offset INT DEFAULT 0
)
RETURNS TABLE (
    id UUID,
    title VARCHAR,
    content TEXT,
    status VARCHAR,
    published_at TIMESTAMP,
    view_count INTEGER,
    total_count BIGINT
)
LANGUAGE C STABLE CALLED ON NULL INPUT
ROWS 10
AS 'MODULE_PATHNAME', 'chronicle_get_user_posts';

CREATE FUNCTION @extschema@.soft_delete_user(
    p_user_id UUID,
    p_deleted_by UUID DEFAULT NULL
)
RETURNS VOID
LANGUAGE C VOLATILE CALLED ON NULL INPUT
AS 'MODULE_PATHNAME', 'chronicle_soft_delete_user';

CREATE FUNCTION @extschema@.increment_post_views(
    p_post_id UUID,
    p_increment INT DEFAULT 1
)
RETURNS INTEGER
LANGUAGE C VOLATILE CALLED ON NULL INPUT
AS 'MODULE_PATHNAME', 'chronicle_increment_post_views';

CREATE FUNCTION @extschema@.get_popular_posts(
    p_days INT DEFAULT 7,
    p_limit INT DEFAULT 10
)
RETURNS TABLE (
    id UUID,
    title VARCHAR,
    view_count INTEGER,
    author_name VARCHAR,
    published_at TIMESTAMP
)
LANGUAGE C STABLE CALLED ON NULL INPUT
ROWS 10
AS 'MODULE_PATHNAME', 'chronicle_get_popular_posts';

COMMENT ON FUNCTION @extschema@.get_user_posts(UUID, VARCHAR, INT, INT) IS 'Get user posts with pagination and optional status filter';
COMMENT ON FUNCTION @extschema@.soft_delete_user(UUID, UUID) IS 'Soft delete user (set deleted_at timestamp)';
COMMENT ON FUNCTION @extschema@.increment_post_views(UUID, INT) IS 'Atomically increment post view count';
COMMENT ON FUNCTION @extschema@.get_popular_posts(INT, INT) IS 'Get most viewed posts in last N days';
