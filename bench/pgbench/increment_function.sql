-- increment_post_views (reference PL/pgSQL or chronicle native).
SELECT increment_post_views(CAST(:pid AS uuid));
