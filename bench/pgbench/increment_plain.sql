-- A view counted by a plain UPDATE from the client, same semantics as
-- increment_post_views (published posts only, returns the new count).
UPDATE posts SET view_count = view_count + 1
WHERE id = CAST(:pid AS uuid) AND status = 'published'
RETURNING view_count;
