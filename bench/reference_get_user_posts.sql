-- The reference's PL/pgSQL get_user_posts (V005), verbatim, in a scratch schema
-- `reference`, reading chronicle's tables: the baseline the native function is
-- measured against (bench/posts_measure.sh).
--   psql -v ON_ERROR_STOP=1 -f bench/reference_get_user_posts.sql
SELECT n.nspname AS chronicle_schema FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'chronicle' \gset
CREATE SCHEMA IF NOT EXISTS reference;
SELECT pg_catalog.set_config('search_path', pg_catalog.format('%I', :'chronicle_schema'), false) AS search_path \gset
CREATE OR REPLACE FUNCTION reference.get_user_posts(
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
    total_count BIGINT  -- Include total count for pagination
) AS $$
BEGIN
    RETURN QUERY
    WITH post_data AS (
        SELECT
            p.id,
            p.title,
            p.content,
            p.status,
            p.published_at,
            p.view_count,
            COUNT(*) OVER() AS total_count  -- Window function for total count
        FROM posts p
        WHERE p.user_id = p_user_id
            AND (p_status IS NULL OR p.status = p_status)
        ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC
        LIMIT p_limit
        OFFSET p_offset
    )
    SELECT * FROM post_data;
END;
$$ LANGUAGE plpgsql STABLE SET search_path FROM CURRENT;
RESET search_path;
