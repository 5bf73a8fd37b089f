-- get_user_posts_keyset: the first page.
SELECT * FROM get_user_posts_keyset(CAST(:uid AS uuid), 'published', 10, NULL);
