-- A small data set for `bench/run --quick` (bench/load_posts.sql, when present,
-- is the 1,000,000-post loader used by the full mode). Same shape: :users users,
-- :posts posts, the first user holding :big of them, 80% published.
-- psql variables: users, posts, big.
INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
SELECT md5('user' || u)::uuid, 'user' || u || '@example.com', 'User ' || u, 'x',
       timestamp '2025-01-01' + u * interval '1 minute', timestamp '2025-01-01' + u * interval '1 minute'
FROM generate_series(1, :users) u;

INSERT INTO posts (id, user_id, title, content, status, published_at, view_count, created_at, updated_at)
SELECT md5('post' || n)::uuid,
       md5('user' || CASE WHEN n <= :big THEN 1 ELSE 2 + n % (:users - 1) END)::uuid,
       'Post ' || n,
       repeat('Lorem ipsum dolor sit amet. ', 12),
       CASE WHEN n % 10 < 8 THEN 'published' WHEN n % 10 = 8 THEN 'draft' ELSE 'archived' END,
       CASE WHEN n % 10 < 8 THEN c + interval '1 hour' END,
       n % 1000, c, c
FROM generate_series(1, :posts) n,
     LATERAL (SELECT timestamp '2025-01-01' + n * interval '7 seconds' AS c) t;
