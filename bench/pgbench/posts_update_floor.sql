-- posts UPDATE of title and status, floor: no trigger. The client sets updated_at
-- and published_at to what the reference's triggers would, so the row is the same.
-- bench_keys maps 1..N to post ids (a small, always cached lookup, in every variant).
\set n random(1, :hot)
\set s random(1, 3)
\set r random(1, 1000000000)
UPDATE posts
SET title = 'Edited ' || :r,
    status = (ARRAY['draft', 'published', 'archived'])[:s],
    published_at = CASE WHEN :s = 2 THEN CASE WHEN status = 'published' THEN published_at ELSE CURRENT_TIMESTAMP END
                        WHEN status = 'published' THEN NULL
                        ELSE published_at END,
    updated_at = CURRENT_TIMESTAMP
WHERE id = (SELECT k.id FROM bench_keys k WHERE k.n = :n);
