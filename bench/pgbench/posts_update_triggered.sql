-- posts UPDATE of title and status as an application writes it; the triggers set
-- updated_at and published_at and write the audit row.
\set n random(1, :hot)
\set s random(1, 3)
\set r random(1, 1000000000)
UPDATE posts
SET title = 'Edited ' || :r,
    status = (ARRAY['draft', 'published', 'archived'])[:s]
WHERE id = (SELECT k.id FROM bench_keys k WHERE k.n = :n);
