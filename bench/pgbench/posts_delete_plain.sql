-- posts DELETE of one row (floor: no trigger; reference/chronicle: the audit
-- trigger). Rows are taken from the top of bench_keys downwards, one per call, so
-- every call deletes exactly one existing row.
DELETE FROM posts
WHERE id = (SELECT k.id FROM bench_keys k WHERE k.n = (SELECT :top - nextval('bench_delete_seq') + 1));
