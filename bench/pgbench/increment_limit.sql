-- A view counted with 1.0 semantics by the client itself: the UPDATE moves
-- updated_at and writes the exact audit row, as the triggers would.
WITH before_row AS (
    SELECT * FROM posts WHERE id = CAST(:pid AS uuid) AND status = 'published' FOR UPDATE
), after_row AS (
    UPDATE posts p SET view_count = p.view_count + 1, updated_at = CURRENT_TIMESTAMP
    FROM before_row b WHERE p.id = b.id
    RETURNING p.*
)
INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data, new_data, changed_fields, ip_address)
SELECT 'posts', 'UPDATE', a.id, a.user_id, to_jsonb(b), to_jsonb(a),
       array_remove(ARRAY[
           CASE WHEN b.view_count IS DISTINCT FROM a.view_count THEN 'view_count' END,
           CASE WHEN b.updated_at IS DISTINCT FROM a.updated_at THEN 'updated_at' END], NULL),
       inet_client_addr()
FROM before_row b JOIN after_row a ON a.id = b.id
RETURNING (SELECT view_count FROM after_row);
