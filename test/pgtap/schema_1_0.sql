-- The whole 1.0 schema, object by object: tables, columns (types, NOT NULL,
-- defaults), constraints, indexes with their definitions, triggers, functions,
-- comments, privileges and pg_dump registration. The extension goes into its own
-- schema to show that every script refers to its objects through @extschema@.
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(54);

CREATE SCHEMA app;
CREATE EXTENSION chronicle SCHEMA app VERSION '1.0';

SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'chronicle'), '1.0', 'chronicle 1.0 is installed');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'chronicle'), false, 'it is not relocatable');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'chronicle'), 'app',
          'it lives in the schema chosen at creation');

-- Tables ---------------------------------------------------------------------
SELECT tables_are('app', ARRAY['users', 'posts', 'audit_logs', 'post_count_totals', 'post_count_deltas'],
                  'app has the three reference tables and the two behind post_counts (the posts API''s counts)');
SELECT sequences_are('app', ARRAY['audit_logs_id_seq'], 'the only sequence is audit_logs.id''s');

SELECT columns_are('app', 'users', ARRAY['id', 'email', 'name', 'password_hash', 'email_verified', 'created_at',
    'updated_at', 'deleted_at', 'created_by', 'updated_by'], 'users has the columns of V001');
SELECT columns_are('app', 'posts', ARRAY['id', 'user_id', 'title', 'content', 'status', 'published_at', 'view_count',
    'created_at', 'updated_at'], 'posts has the columns of V002');
SELECT columns_are('app', 'audit_logs', ARRAY['id', 'table_name', 'operation', 'record_id', 'user_id', 'old_data',
    'new_data', 'changed_fields', 'ip_address', 'user_agent', 'created_at'], 'audit_logs has the columns of V003');

-- Every column: position, type, NOT NULL and default, as V001-V003 declare them.
SELECT results_eq(
    $$SELECT c.relname::text COLLATE "default", a.attname::text COLLATE "default", format_type(a.atttypid, a.atttypmod), a.attnotnull,
             pg_get_expr(d.adbin, d.adrelid) COLLATE "default"
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'app'::regnamespace AND c.relname IN ('users', 'posts', 'audit_logs')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum$$,
    $$VALUES
      ('audit_logs'::text, 'id'::text, 'bigint'::text, true, 'nextval(''app.audit_logs_id_seq''::regclass)'::text),
      ('audit_logs', 'table_name', 'character varying(50)', true, NULL),
      ('audit_logs', 'operation', 'character varying(10)', true, NULL),
      ('audit_logs', 'record_id', 'uuid', false, NULL),
      ('audit_logs', 'user_id', 'uuid', false, NULL),
      ('audit_logs', 'old_data', 'jsonb', false, NULL),
      ('audit_logs', 'new_data', 'jsonb', false, NULL),
      ('audit_logs', 'changed_fields', 'text[]', false, NULL),
      ('audit_logs', 'ip_address', 'inet', false, NULL),
      ('audit_logs', 'user_agent', 'text', false, NULL),
      ('audit_logs', 'created_at', 'timestamp without time zone', true, 'CURRENT_TIMESTAMP'),
      ('posts', 'id', 'uuid', true, 'gen_random_uuid()'),
      ('posts', 'user_id', 'uuid', true, NULL),
      ('posts', 'title', 'character varying(200)', true, NULL),
      ('posts', 'content', 'text', true, NULL),
      ('posts', 'status', 'character varying(20)', true, '''draft''::character varying'),
      ('posts', 'published_at', 'timestamp without time zone', false, NULL),
      ('posts', 'view_count', 'integer', true, '0'),
      ('posts', 'created_at', 'timestamp without time zone', true, 'CURRENT_TIMESTAMP'),
      ('posts', 'updated_at', 'timestamp without time zone', true, 'CURRENT_TIMESTAMP'),
      ('users', 'id', 'uuid', true, 'gen_random_uuid()'),
      ('users', 'email', 'character varying(255)', true, NULL),
      ('users', 'name', 'character varying(100)', true, NULL),
      ('users', 'password_hash', 'character varying(255)', true, NULL),
      ('users', 'email_verified', 'boolean', true, 'false'),
      ('users', 'created_at', 'timestamp without time zone', true, 'CURRENT_TIMESTAMP'),
      ('users', 'updated_at', 'timestamp without time zone', true, 'CURRENT_TIMESTAMP'),
      ('users', 'deleted_at', 'timestamp without time zone', false, NULL),
      ('users', 'created_by', 'uuid', false, NULL),
      ('users', 'updated_by', 'uuid', false, NULL)$$,
    'every column has its reference type, nullability and default');

-- Constraints ------------------------------------------------------------------
SELECT col_is_pk('app', 'users', 'id', 'users.id is the primary key');
SELECT col_is_pk('app', 'posts', 'id', 'posts.id is the primary key');
SELECT col_is_pk('app', 'audit_logs', 'id', 'audit_logs.id is the primary key');
SELECT fk_ok('app', 'posts', 'user_id', 'app', 'users', 'id', 'posts.user_id references users.id');
SELECT set_has(
    $$SELECT conrelid::regclass::text, conname::text COLLATE "default", pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'app'::regnamespace$$,
    $$VALUES
      ('app.audit_logs'::text, 'audit_logs_operation_check'::text,
       'CHECK (((operation)::text = ANY (ARRAY[''INSERT''::text, ''UPDATE''::text, ''DELETE''::text])))'::text),
      ('app.audit_logs', 'audit_logs_pkey', 'PRIMARY KEY (id)'),
      ('app.posts', 'fk_posts_user',
       'FOREIGN KEY (user_id) REFERENCES app.users(id) ON UPDATE CASCADE ON DELETE CASCADE'),
      ('app.posts', 'posts_pkey', 'PRIMARY KEY (id)'),
      ('app.posts', 'posts_published_at_check',
       'CHECK (((((status)::text = ''published''::text) AND (published_at IS NOT NULL)) OR ((status)::text <> ''published''::text)))'),
      ('app.posts', 'posts_status_check',
       'CHECK (((status)::text = ANY (ARRAY[''draft''::text, ''published''::text, ''archived''::text])))'),
      ('app.posts', 'posts_view_count_positive', 'CHECK ((view_count >= 0))'),
      ('app.users', 'users_email_format',
       'CHECK (((email)::text ~* ''^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$''::text))'),
      ('app.users', 'users_name_length', 'CHECK ((length((name)::text) >= 2))'),
      ('app.users', 'users_pkey', 'PRIMARY KEY (id)')$$,
    'every reference constraint has its definition (with the corrected TLD class)');
SELECT is((SELECT bool_and(convalidated) FROM pg_constraint WHERE connamespace = 'app'::regnamespace), true,
          'every constraint is validated');

-- Indexes ----------------------------------------------------------------------
SELECT indexes_are('app', 'users', ARRAY['users_pkey', 'idx_users_email_unique', 'idx_users_email',
    'idx_users_created_at', 'idx_users_deleted_at', 'idx_users_email_verified'], 'users has the indexes of V001');
SELECT indexes_are('app', 'audit_logs', ARRAY['audit_logs_pkey', 'idx_audit_table_operation', 'idx_audit_record_id',
    'idx_audit_user_id', 'idx_audit_created_at', 'idx_audit_old_data_gin', 'idx_audit_new_data_gin'],
    'audit_logs has the indexes of V003');
SELECT results_eq(
    $$SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
      FROM pg_index WHERE indrelid IN ('app.users'::regclass, 'app.audit_logs'::regclass)
      ORDER BY 1$$,
    $$VALUES
      ('app.audit_logs_pkey'::text, 'CREATE UNIQUE INDEX audit_logs_pkey ON app.audit_logs USING btree (id)'::text),
      ('app.idx_audit_created_at', 'CREATE INDEX idx_audit_created_at ON app.audit_logs USING btree (created_at DESC)'),
      ('app.idx_audit_new_data_gin', 'CREATE INDEX idx_audit_new_data_gin ON app.audit_logs USING gin (new_data)'),
      ('app.idx_audit_old_data_gin', 'CREATE INDEX idx_audit_old_data_gin ON app.audit_logs USING gin (old_data)'),
      ('app.idx_audit_record_id', 'CREATE INDEX idx_audit_record_id ON app.audit_logs USING btree (record_id)'),
      ('app.idx_audit_table_operation',
       'CREATE INDEX idx_audit_table_operation ON app.audit_logs USING btree (table_name, operation)'),
      ('app.idx_audit_user_id', 'CREATE INDEX idx_audit_user_id ON app.audit_logs USING btree (user_id)'),
      ('app.idx_users_created_at', 'CREATE INDEX idx_users_created_at ON app.users USING btree (created_at DESC)'),
      ('app.idx_users_deleted_at',
       'CREATE INDEX idx_users_deleted_at ON app.users USING btree (deleted_at) WHERE (deleted_at IS NOT NULL)'),
      ('app.idx_users_email', 'CREATE INDEX idx_users_email ON app.users USING btree (email)'),
      ('app.idx_users_email_unique',
       'CREATE UNIQUE INDEX idx_users_email_unique ON app.users USING btree (email) WHERE (deleted_at IS NULL)'),
      ('app.idx_users_email_verified',
       'CREATE INDEX idx_users_email_verified ON app.users USING btree (email_verified) WHERE (email_verified = false)'),
      ('app.users_pkey', 'CREATE UNIQUE INDEX users_pkey ON app.users USING btree (id)')$$,
    'users and audit_logs indexes have their reference definitions');
-- posts: the reference's indexes with their definitions (the posts API may add
-- indexes of its own; its plan tests check those).
SELECT set_has(
    $$SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'app.posts'::regclass$$,
    $$VALUES
      ('app.posts_pkey'::text, 'CREATE UNIQUE INDEX posts_pkey ON app.posts USING btree (id)'::text),
      ('app.idx_posts_user_id', 'CREATE INDEX idx_posts_user_id ON app.posts USING btree (user_id)'),
      ('app.idx_posts_status_published',
       'CREATE INDEX idx_posts_status_published ON app.posts USING btree (status, published_at DESC) WHERE ((status)::text = ''published''::text)'),
      ('app.idx_posts_user_status_date',
       'CREATE INDEX idx_posts_user_status_date ON app.posts USING btree (user_id, status, created_at DESC)'),
      ('app.idx_posts_covering_list',
       'CREATE INDEX idx_posts_covering_list ON app.posts USING btree (user_id, status) INCLUDE (title, published_at, view_count) WHERE ((status)::text = ''published''::text)'),
      ('app.idx_posts_title_lower', 'CREATE INDEX idx_posts_title_lower ON app.posts USING btree (lower((title)::text))')$$,
    'posts has the indexes of V002 with their reference definitions');
SELECT is((SELECT bool_and(indisvalid AND indisready) FROM pg_index
           WHERE indrelid IN ('app.users'::regclass, 'app.posts'::regclass, 'app.audit_logs'::regclass)), true,
          'every index is valid');

-- Triggers ---------------------------------------------------------------------
SELECT triggers_are('app', 'users', ARRAY['users_updated_at_trigger'], 'users has its updated_at trigger');
SELECT trigger_is('app', 'users', 'users_updated_at_trigger', 'app', 'update_updated_at_column',
                  'users_updated_at_trigger calls update_updated_at_column()');
SELECT trigger_is('app', 'posts', 'posts_updated_at_trigger', 'app', 'update_updated_at_column',
                  'posts_updated_at_trigger calls update_updated_at_column()');
SELECT trigger_is('app', 'posts', 'posts_set_published_at', 'app', 'set_published_at',
                  'posts_set_published_at calls set_published_at()');
SELECT set_has(
    $$SELECT tgname::text COLLATE "default", pg_get_triggerdef(oid) FROM pg_trigger
      WHERE tgrelid IN ('app.users'::regclass, 'app.posts'::regclass) AND NOT tgisinternal$$,
    $$VALUES
      ('users_updated_at_trigger'::text,
       'CREATE TRIGGER users_updated_at_trigger BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.update_updated_at_column()'::text),
      ('posts_updated_at_trigger',
       'CREATE TRIGGER posts_updated_at_trigger BEFORE UPDATE ON app.posts FOR EACH ROW EXECUTE FUNCTION app.update_updated_at_column()'),
      ('posts_set_published_at',
       'CREATE TRIGGER posts_set_published_at BEFORE INSERT OR UPDATE ON app.posts FOR EACH ROW EXECUTE FUNCTION app.set_published_at()')$$,
    'the V004 timestamp triggers have their timing and events');

-- Functions --------------------------------------------------------------------
SELECT function_lang_is('app', 'update_updated_at_column', ARRAY[]::name[], 'c',
                        'update_updated_at_column() is native');
SELECT function_lang_is('app', 'set_published_at', ARRAY[]::name[], 'c', 'set_published_at() is native');
SELECT function_returns('app', 'update_updated_at_column', ARRAY[]::name[], 'trigger',
                        'update_updated_at_column() returns trigger');
SELECT function_returns('app', 'set_published_at', ARRAY[]::name[], 'trigger', 'set_published_at() returns trigger');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'chronicle') AND p.prosecdef
             AND (p.proconfig IS NULL OR NOT 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig))), 0,
          'every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');

-- Comments ---------------------------------------------------------------------
SELECT is(obj_description('app.users'::regclass, 'pg_class'),
          'User accounts with email verification and soft delete support', 'users has its comment');
SELECT is(obj_description('app.posts'::regclass, 'pg_class'),
          'User posts with status workflow (draft → published → archived)', 'posts has its comment');
SELECT is(obj_description('app.audit_logs'::regclass, 'pg_class'),
          'Audit trail for all data changes (compliance, debugging)', 'audit_logs has its comment');
SELECT results_eq(
    $$SELECT c.relname::text COLLATE "default", a.attname::text COLLATE "default", col_description(c.oid, a.attnum)
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = 'app'::regnamespace AND c.relname IN ('users', 'posts', 'audit_logs') AND a.attnum > 0
        AND col_description(c.oid, a.attnum) IS NOT NULL
      ORDER BY 1, 2$$,
    $$VALUES
      ('audit_logs'::text, 'changed_fields'::text, 'Array of column names that were modified (UPDATE only)'::text),
      ('audit_logs', 'new_data', 'Full row data after change (NULL for DELETE)'),
      ('audit_logs', 'old_data', 'Full row data before change (NULL for INSERT)'),
      ('posts', 'published_at', 'Publication timestamp (set when status changes to published)'),
      ('posts', 'status', 'Post status: draft (not visible), published (public), archived (hidden)'),
      ('posts', 'view_count', 'Number of times post was viewed (denormalized for performance)'),
      ('users', 'deleted_at', 'Soft delete timestamp (NULL = active, non-NULL = deleted)'),
      ('users', 'email', 'User email address (unique, validated by CHECK constraint)'),
      ('users', 'email_verified', 'Email verification status (default: false)'),
      ('users', 'id', 'Primary key (UUID v4)'),
      ('users', 'password_hash', 'bcrypt hash (do NOT store plaintext passwords)')$$,
    'every column comment of V001-V003');
SELECT is(obj_description('app.update_updated_at_column()'::regprocedure, 'pg_proc'),
          'Auto-update updated_at timestamp on row modification', 'update_updated_at_column() has its comment');
SELECT is(obj_description('app.set_published_at()'::regprocedure, 'pg_proc'),
          'Auto-set published_at when post status changes to published', 'set_published_at() has its comment');

-- Privileges and dumps ------------------------------------------------------------
SELECT table_privs_are('app', 'audit_logs', 'public', ARRAY[]::text[], 'PUBLIC has no privilege on audit_logs');
SELECT sequence_privs_are('app', 'audit_logs_id_seq', 'public', ARRAY[]::text[],
                          'PUBLIC has no privilege on audit_logs_id_seq');
SELECT set_has(
    $$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'chronicle'$$,
    $$VALUES ('app.users'::text), ('app.posts'), ('app.audit_logs'), ('app.audit_logs_id_seq')$$,
    'pg_dump keeps the rows of every table and the position of every sequence');
SELECT is((SELECT count(*)::int FROM pg_extension, unnest(extcondition) AS c WHERE extname = 'chronicle' AND c <> ''),
          0, 'no table is dumped only in part');

-- Behaviour the schema enforces ----------------------------------------------------
SELECT lives_ok($$INSERT INTO app.users (email, name, password_hash) VALUES ('a.b+c@example.co', 'Al', 'h')$$,
                'a well-formed email is accepted');
SELECT throws_ok($$INSERT INTO app.users (email, name, password_hash) VALUES ('a@b.c|m', 'Al', 'h')$$, '23514',
                 'new row for relation "users" violates check constraint "users_email_format"',
                 'the TLD class no longer accepts |');
SELECT throws_ok($$INSERT INTO app.users (email, name, password_hash) VALUES ('no-at-sign.com', 'Al', 'h')$$, '23514',
                 NULL, 'an email without @ is refused');
SELECT throws_ok($$INSERT INTO app.users (email, name, password_hash) VALUES ('x@example.com', 'A', 'h')$$, '23514',
                 'new row for relation "users" violates check constraint "users_name_length"',
                 'a one-letter name is refused');
SELECT throws_ok($$INSERT INTO app.posts (user_id, title, content, status)
                   SELECT id, 't', 'c', 'hidden' FROM app.users LIMIT 1$$, '23514',
                 'new row for relation "posts" violates check constraint "posts_status_check"',
                 'an unknown post status is refused');
SELECT throws_ok($$INSERT INTO app.posts (user_id, title, content, view_count)
                   SELECT id, 't', 'c', -1 FROM app.users LIMIT 1$$, '23514',
                 'new row for relation "posts" violates check constraint "posts_view_count_positive"',
                 'a negative view count is refused');
SELECT throws_ok($$INSERT INTO app.posts (user_id, title, content)
                   VALUES ('00000000-0000-0000-0000-00000000dead', 't', 'c')$$, '23503',
                 'insert or update on table "posts" violates foreign key constraint "fk_posts_user"',
                 'a post needs an existing user');
SELECT throws_ok($$INSERT INTO app.audit_logs (table_name, operation) VALUES ('t', 'MERGE')$$, '23514',
                 'new row for relation "audit_logs" violates check constraint "audit_logs_operation_check"',
                 'an unknown audit operation is refused');

-- The reference's migration tests (tests/test_migrations.sql), as pgTAP --------------
-- Test 1: the users table exists.
SELECT has_table('app', 'users', 'Test 1: users table exists');
-- Test 2: email uniqueness.
SELECT lives_ok($$INSERT INTO app.users (email, name, password_hash) VALUES ('test@example.com', 'Test User', 'hash123')$$,
                'Test 2: a first user with an email is accepted');
SELECT throws_ok($$INSERT INTO app.users (email, name, password_hash) VALUES ('test@example.com', 'Another User', 'hash456')$$,
                 '23505', 'duplicate key value violates unique constraint "idx_users_email_unique"',
                 'Test 2: a second active user with the same email is refused');
-- Test 3: soft delete frees the email.
UPDATE app.users SET deleted_at = CURRENT_TIMESTAMP WHERE email = 'test@example.com';
SELECT lives_ok($$INSERT INTO app.users (email, name, password_hash) VALUES ('test@example.com', 'New User', 'hash000')$$,
                'Test 3: a soft-deleted user''s email can be used again');
-- Test 4: deleting a user cascades to the posts.
INSERT INTO app.users (id, email, name, password_hash)
VALUES ('00000000-0000-0000-0000-00000000ca5c', 'cascade@example.com', 'Cascade Test', 'hash111');
INSERT INTO app.posts (user_id, title, content, status)
VALUES ('00000000-0000-0000-0000-00000000ca5c', 'Test Post', 'Content', 'draft');
DELETE FROM app.users WHERE id = '00000000-0000-0000-0000-00000000ca5c';
SELECT is((SELECT count(*)::int FROM app.posts WHERE user_id = '00000000-0000-0000-0000-00000000ca5c'), 0,
          'Test 4: deleting a user deletes their posts');
-- And updating a user's id cascades (ON UPDATE CASCADE).
INSERT INTO app.users (id, email, name, password_hash)
VALUES ('00000000-0000-0000-0000-0000000000c1', 'moves@example.com', 'Mover', 'h');
INSERT INTO app.posts (user_id, title, content) VALUES ('00000000-0000-0000-0000-0000000000c1', 'p', 'c');
UPDATE app.users SET id = '00000000-0000-0000-0000-0000000000c2' WHERE id = '00000000-0000-0000-0000-0000000000c1';
SELECT is((SELECT user_id::text FROM app.posts WHERE title = 'p'), '00000000-0000-0000-0000-0000000000c2',
          'a user''s new id cascades to their posts');

SELECT * FROM finish();
ROLLBACK;
