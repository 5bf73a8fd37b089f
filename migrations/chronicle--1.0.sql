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

-- ---- posts API (issue: native posts API) ----
