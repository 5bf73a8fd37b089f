-- The reference's V005 as the PL/pgSQL baseline, behaviour
-- unchanged; tables are named with their schema (public) so the functions do
-- not depend on the caller's search_path.

CREATE FUNCTION public.get_user_posts(
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
            COUNT(*) OVER() AS total_count
        FROM public.posts p
        WHERE p.user_id = p_user_id
            AND (p_status IS NULL OR p.status = p_status)
        ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC
        LIMIT p_limit
        OFFSET p_offset
    )
    SELECT * FROM post_data;
END;
$$ LANGUAGE plpgsql STABLE;

CREATE FUNCTION public.soft_delete_user(
    p_user_id UUID,
    p_deleted_by UUID DEFAULT NULL
)
RETURNS VOID AS $$
BEGIN
    UPDATE public.users
    SET
        deleted_at = CURRENT_TIMESTAMP,
        updated_by = p_deleted_by
    WHERE id = p_user_id
        AND deleted_at IS NULL;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'User % not found or already deleted', p_user_id;
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION public.increment_post_views(
    p_post_id UUID,
    p_increment INT DEFAULT 1
)
RETURNS INTEGER AS $$
DECLARE
    new_view_count INTEGER;
BEGIN
    UPDATE public.posts
    SET view_count = view_count + p_increment
    WHERE id = p_post_id
        AND status = 'published'
    RETURNING view_count INTO new_view_count;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'Post % not found or not published', p_post_id;
    END IF;

    RETURN new_view_count;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION public.get_popular_posts(
    p_days INT DEFAULT 7,
    p_limit INT DEFAULT 10
)
RETURNS TABLE (
    id UUID,
    title VARCHAR,
    view_count INTEGER,
    author_name VARCHAR,
    published_at TIMESTAMP
) AS $$
BEGIN
    RETURN QUERY
    SELECT
        p.id,
        p.title,
        p.view_count,
        u.name AS author_name,
        p.published_at
    FROM public.posts p
    JOIN public.users u ON p.user_id = u.id
    WHERE p.status = 'published'
        AND p.published_at >= CURRENT_TIMESTAMP - (p_days || ' days')::INTERVAL
        AND u.deleted_at IS NULL
    ORDER BY p.view_count DESC
    LIMIT p_limit;
END;
$$ LANGUAGE plpgsql STABLE;
