-- UPDATE of a table whose only trigger is the updated_at one (floor: none).
\set n random(1, :tsrows)
\set r random(1, 1000000000)
UPDATE ts_items SET body = 'body ' || :r WHERE id = :n;
