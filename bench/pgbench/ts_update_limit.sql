-- UPDATE of the updated_at-only table, limit: no trigger, the client sets updated_at.
\set n random(1, :tsrows)
\set r random(1, 1000000000)
UPDATE ts_items SET body = 'body ' || :r, updated_at = CURRENT_TIMESTAMP WHERE id = :n;
