-- The reference schema (its migrations V001-V003) as plain SQL, for the bench
-- variants that do not use the extension (floor, limit, reference). Tables and
-- indexes are exactly the extension's 1.0 tables (same definitions, same index
-- names), so that every variant writes the same rows into the same structures.
-- Objects go to schema public, named explicitly, whatever the search_path.

CREATE TABLE public.users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) NOT NULL,
    name VARCHAR(100) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at TIMESTAMP,
    created_by UUID,
    updated_by UUID,
    -- As in the extension: a correct TLD class ([A-Za-z]); the reference's [A-Z|a-z]
    -- also accepted '|'.
    CONSTRAINT users_email_format CHECK (
        email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$'
    ),
    CONSTRAINT users_name_length CHECK (LENGTH(name) >= 2)
);
CREATE UNIQUE INDEX idx_users_email_unique ON public.users(email) WHERE deleted_at IS NULL;
CREATE INDEX idx_users_email ON public.users(email);
CREATE INDEX idx_users_created_at ON public.users(created_at DESC);
CREATE INDEX idx_users_deleted_at ON public.users(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX idx_users_email_verified ON public.users(email_verified) WHERE email_verified = FALSE;

CREATE TABLE public.posts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    title VARCHAR(200) NOT NULL,
    content TEXT NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'draft',
    published_at TIMESTAMP,
    view_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_posts_user FOREIGN KEY (user_id)
        REFERENCES public.users(id) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT posts_status_check CHECK (status IN ('draft', 'published', 'archived')),
    CONSTRAINT posts_published_at_check CHECK (
        (status = 'published' AND published_at IS NOT NULL) OR (status != 'published')
    ),
    CONSTRAINT posts_view_count_positive CHECK (view_count >= 0)
);
CREATE INDEX idx_posts_user_id ON public.posts(user_id);
CREATE INDEX idx_posts_status_published ON public.posts(status, published_at DESC)
    WHERE status = 'published';
CREATE INDEX idx_posts_user_status_date ON public.posts(user_id, status, created_at DESC);
CREATE INDEX idx_posts_covering_list ON public.posts(user_id, status)
    INCLUDE (title, published_at, view_count) WHERE status = 'published';
CREATE INDEX idx_posts_title_lower ON public.posts(LOWER(title));

CREATE TABLE public.audit_logs (
    id BIGSERIAL PRIMARY KEY,
    table_name VARCHAR(50) NOT NULL,
    operation VARCHAR(10) NOT NULL,
    record_id UUID,
    user_id UUID,
    old_data JSONB,
    new_data JSONB,
    changed_fields TEXT[],
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT audit_logs_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
);
CREATE INDEX idx_audit_table_operation ON public.audit_logs(table_name, operation);
CREATE INDEX idx_audit_record_id ON public.audit_logs(record_id);
CREATE INDEX idx_audit_user_id ON public.audit_logs(user_id);
CREATE INDEX idx_audit_created_at ON public.audit_logs(created_at DESC);
CREATE INDEX idx_audit_old_data_gin ON public.audit_logs USING GIN (old_data);
CREATE INDEX idx_audit_new_data_gin ON public.audit_logs USING GIN (new_data);
