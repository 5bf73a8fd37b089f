-- posts UPDATE of title and status, limit: no trigger. One statement updates the
-- row (timestamps as the triggers would set them) and writes its exact audit row
-- (old/new = to_jsonb, changed_fields = every changed column in column order),
-- taking the old row from a self-join in FROM (PostgreSQL 15 has no RETURNING OLD).
-- The old row is exact here because no other session writes these rows; under
-- concurrent writers a client would need SELECT ... FOR UPDATE first (as in
-- increment_limit.sql).
\set n random(1, :hot)
\set s random(1, 3)
\set r random(1, 1000000000)
WITH changed AS (
    UPDATE posts p
    SET title = 'Edited ' || :r,
        status = (ARRAY['draft', 'published', 'archived'])[:s],
        published_at = CASE WHEN :s = 2 THEN CASE WHEN p.status = 'published' THEN p.published_at ELSE CURRENT_TIMESTAMP END
                            WHEN p.status = 'published' THEN NULL
                            ELSE p.published_at END,
        updated_at = CURRENT_TIMESTAMP
    FROM posts b
    WHERE p.id = (SELECT k.id FROM bench_keys k WHERE k.n = :n) AND b.id = p.id
    RETURNING p.id, p.user_id, to_jsonb(b) AS old_data, to_jsonb(p) AS new_data,
              array_remove(ARRAY[
                  CASE WHEN b.id IS DISTINCT FROM p.id THEN 'id' END,
                  CASE WHEN b.user_id IS DISTINCT FROM p.user_id THEN 'user_id' END,
                  CASE WHEN b.title IS DISTINCT FROM p.title THEN 'title' END,
                  CASE WHEN b.content IS DISTINCT FROM p.content THEN 'content' END,
                  CASE WHEN b.status IS DISTINCT FROM p.status THEN 'status' END,
                  CASE WHEN b.published_at IS DISTINCT FROM p.published_at THEN 'published_at' END,
                  CASE WHEN b.view_count IS DISTINCT FROM p.view_count THEN 'view_count' END,
                  CASE WHEN b.created_at IS DISTINCT FROM p.created_at THEN 'created_at' END,
                  CASE WHEN b.updated_at IS DISTINCT FROM p.updated_at THEN 'updated_at' END], NULL) AS changed_fields
)
INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data, new_data, changed_fields, ip_address)
SELECT 'posts', 'UPDATE', id, user_id, old_data, new_data, changed_fields, inet_client_addr()
FROM changed;
