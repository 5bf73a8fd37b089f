-- posts INSERT as an application writes it; the triggers (reference PL/pgSQL or
-- chronicle native) set published_at and write the audit row.
\set s random(0, 1)
INSERT INTO posts (user_id, title, content, status)
VALUES (CAST(:writer AS uuid), 'Benchmark post', repeat('Lorem ipsum dolor sit amet. ', 12),
        (ARRAY['draft', 'published'])[:s + 1]);
