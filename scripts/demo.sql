-- chronicle in a few statements. Run by scripts/demo against a throwaway cluster.
\set ECHO queries
\pset null '(null)'
\pset footer off

CREATE EXTENSION chronicle;
\dx chronicle

-- An application says who acts, per transaction.
BEGIN;
SET LOCAL chronicle.actor_id = '00000000-0000-4000-8000-0000000000ad';
SET LOCAL chronicle.user_agent = 'demo/1.0';
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', 'Ada Lovelace', 'bcrypt...');
INSERT INTO posts (id, user_id, title, content)
VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001',
        'Notes on the Analytical Engine', 'The engine weaves algebraic patterns.');
COMMIT;

-- Publishing stamps published_at; every change moves updated_at (native triggers).
UPDATE posts SET status = 'published' WHERE id = '00000000-0000-4000-8000-0000000000a1';
SELECT title, status, published_at IS NOT NULL AS published, updated_at > created_at AS updated FROM posts;

-- Each row change is in the audit log, as JSONB, with the columns that changed.
SELECT id, table_name, operation, record_id, user_id, changed_fields, user_agent,
       new_data ->> 'status' AS new_status
FROM audit_logs ORDER BY id;

-- The posts API.
SELECT increment_post_views('00000000-0000-4000-8000-0000000000a1', 3) AS views;
SELECT title, view_count, total_count FROM get_user_posts('00000000-0000-4000-8000-000000000001');
SELECT title, view_count, author_name FROM get_popular_posts(7, 5);

-- Errors carry their SQLSTATE: a post that is not published has no views to count.
\set VERBOSITY verbose
\set ON_ERROR_STOP 0
SELECT increment_post_views('00000000-0000-4000-8000-0000000000ff');
\set ON_ERROR_STOP 1
\set VERBOSITY default

-- Audit any table of your own (1.1).
CREATE TABLE invoices (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), amount numeric(12,2), paid boolean DEFAULT false);
SELECT enable_audit('invoices', ARRAY['ignore=paid']);
INSERT INTO invoices (amount) VALUES (120.50);
UPDATE invoices SET amount = 99.99, paid = true;
SELECT table_name, operation, changed_fields, old_data ->> 'amount' AS old_amount, new_data ->> 'amount' AS new_amount
FROM audit_logs WHERE table_name = 'invoices' ORDER BY id;

-- What a migration still has to do outside its transaction (1.1).
SELECT name, ddl FROM pending_migration_steps();
