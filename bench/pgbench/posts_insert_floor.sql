-- posts INSERT, floor: no trigger. The client sets published_at itself, to the
-- value the reference's set_published_at trigger would give, so the row is the same.
\set s random(0, 1)
INSERT INTO posts (user_id, title, content, status, published_at)
VALUES (CAST(:writer AS uuid), 'Benchmark post', repeat('Lorem ipsum dolor sit amet. ', 12),
        (ARRAY['draft', 'published'])[:s + 1],
        CASE WHEN :s = 1 THEN CURRENT_TIMESTAMP END);
