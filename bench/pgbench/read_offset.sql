-- get_user_posts: one page of 10 at a fixed OFFSET (reference PL/pgSQL or chronicle native).
SELECT * FROM get_user_posts(CAST(:uid AS uuid), 'published', 10, :off);
