-- posts DELETE, limit: no trigger; the client writes the exact audit row
-- (old_data = to_jsonb(OLD)) in the same statement.
WITH del AS (
    DELETE FROM posts
    WHERE id = (SELECT k.id FROM bench_keys k WHERE k.n = (SELECT :top - nextval('bench_delete_seq') + 1))
    RETURNING *
)
INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data, new_data, changed_fields, ip_address)
SELECT 'posts', 'DELETE', del.id, del.user_id, to_jsonb(del), NULL, '{}', inet_client_addr()
FROM del;
