-- The audit-log queries the reference's indexes were for, with psql variables
-- :rec (a record id), :usr (a user id) and :t0 (a timestamp inside the data).
-- "Newest first" is ORDER BY id DESC: the id is the order rows were written
-- (created_at is the writing transaction's start, not monotonic across sessions).
-- Q1 every change to record X, newest first
SELECT id, operation, changed_fields, created_at FROM audit_logs WHERE record_id = :'rec' ORDER BY id DESC LIMIT 50;
-- Q2 changes by user U in a time range
SELECT id, table_name, operation, created_at FROM audit_logs WHERE user_id = :'usr' AND created_at >= :'t0'::timestamp AND created_at < :'t0'::timestamp + interval '1 day' ORDER BY created_at DESC;
-- Q3 changes to table T of operation O (the rare ones: DELETEs of posts)
SELECT id, record_id, created_at FROM audit_logs WHERE table_name = 'posts' AND operation = 'DELETE' ORDER BY id DESC LIMIT 50;
-- Q4 changes where field F changed
SELECT id, record_id, created_at FROM audit_logs WHERE changed_fields @> ARRAY['title'] ORDER BY id DESC LIMIT 50;
-- Q5 changes where new_data contains {k: v} (a field set to a value)
SELECT id, record_id, created_at FROM audit_logs WHERE changed_fields @> ARRAY['status'] AND new_data @> '{"status": "archived"}' ORDER BY id DESC LIMIT 50;
-- Q6 recent changes (a time window)
SELECT id, table_name, operation, record_id FROM audit_logs WHERE created_at >= :'t0'::timestamp ORDER BY id DESC LIMIT 50;
