-- get_user_posts_keyset: the page that starts at the cursor of a given depth.
SELECT * FROM get_user_posts_keyset(CAST(:uid AS uuid), 'published', 10, CAST(:cursor AS text));
