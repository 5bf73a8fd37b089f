-- posts INSERT, limit: no trigger. The client writes the row and its exact audit
-- row (chronicle's contract: new_data = to_jsonb(NEW), changed_fields {}) in one
-- statement, one transaction: the least work any audit design can do.
\set s random(0, 1)
WITH ins AS (
    INSERT INTO posts (user_id, title, content, status, published_at)
    VALUES (CAST(:writer AS uuid), 'Benchmark post', repeat('Lorem ipsum dolor sit amet. ', 12),
            (ARRAY['draft', 'published'])[:s + 1],
            CASE WHEN :s = 1 THEN CURRENT_TIMESTAMP END)
    RETURNING *
)
INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data, new_data, changed_fields, ip_address)
SELECT 'posts', 'INSERT', ins.id, ins.user_id, NULL, to_jsonb(ins), '{}', inet_client_addr()
FROM ins;
