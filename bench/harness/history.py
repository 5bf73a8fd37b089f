"""The audit log's history: every database's audit_logs starts with the same past.

A production audit log is never empty, and an empty one measures the wrong thing:
a GIN index keeps a key's posting list inline in its entry tuple and rewrites the
whole tuple (and logs it) on every insert until the key has a few thousand rows;
then the list becomes a posting tree and an insert logs far less. The cases
therefore write into a log that already holds this history, written once at setup:

  for every post that bench/load_posts.sql marks as edited (-v edited=N: about N
  posts spread over all users, updated_at > created_at), the audit rows its writes
  left: the INSERT (new_data = the post as written: its title then, updated_at =
  created_at; a published post was written as a draft) and one UPDATE (old_data =
  that first version, new_data = the post as it is now; at updated_at: the title
  edited and, for a published post, its publication).

The last audit row of a post is its current row, as the audit triggers leave it,
so the cases' exactness checks hold across the history. Every database gets the
same rows with the same ids (ordered by time) except changed_fields, which is what
the variant's own audit function records for that change: chronicle every changed
column in column order, the reference's function only title/content/status.
The rows are stored as PostgreSQL stores an INSERT ... SELECT: chronicle's writer
would have compressed its row images (lz4) inline, so a chronicle database's
history takes somewhat more table space than chronicle itself would have used
(the per-case growth figures are deltas and unaffected). The btrees take the rows one
by one, as a live log's do: a freshly built btree is packed, and the first writes
into its random places (record_id) split nearly every page, which would add index bytes, and their WAL,
to each audited row of the first cases.
"""

from .indexes import without_indexes

# The columns the reference's audit function compares (bench/reference/triggers.sql).
REFERENCE_CHANGED_FIELDS = ("title", "content", "status")


def _posts_columns(cluster, db):
    return [r[0] for r in cluster.rows(db, """
        SELECT attname FROM pg_attribute WHERE attrelid = 'public.posts'::regclass
        AND attnum > 0 AND NOT attisdropped ORDER BY attnum""")]


def _changed_fields_sql(columns, old, new):
    """The changed_fields of an UPDATE from its two row images: the listed columns that differ, in order."""
    cases = ", ".join(f"CASE WHEN {old} -> '{c}' IS DISTINCT FROM {new} -> '{c}' THEN '{c}' END" for c in columns)
    return f"array_remove(ARRAY[{cases}]::text[], NULL)"


def seed(cluster, db, changed_fields=None):
    """Replaces db's audit_logs with the history of its edited posts (no trigger fires); returns
    the number of audit rows. changed_fields: the columns the variant's audit function compares
    (None: every column)."""
    columns = _posts_columns(cluster, db)
    compared = columns if changed_fields is None else [c for c in columns if c in changed_fields]
    # The post as first written: its title then, never updated; a published post was a draft.
    first = """to_jsonb(p) || jsonb_build_object('title', p.title || ' (first draft)', 'updated_at', p.created_at)
               || CASE WHEN p.status = 'published' THEN jsonb_build_object('status', 'draft', 'published_at', NULL)
                       ELSE '{}'::jsonb END"""
    sql = f"""
BEGIN;
SET LOCAL session_replication_role = replica;
TRUNCATE audit_logs;
INSERT INTO audit_logs (id, table_name, operation, record_id, user_id, old_data, new_data, changed_fields, created_at)
SELECT row_number() OVER (ORDER BY e.at, e.step, h.id), 'posts', e.op, h.id, h.user_id, e.old_data, e.new_data,
       e.changed_fields, e.at
FROM (SELECT p.id, p.user_id, p.created_at, p.updated_at, {first} AS first, to_jsonb(p) AS last
      FROM posts p WHERE p.updated_at > p.created_at) h
CROSS JOIN LATERAL (VALUES
    (1, 'INSERT', h.created_at, NULL::jsonb, h.first, '{{}}'::text[]),
    (2, 'UPDATE', h.updated_at, h.first, h.last, {_changed_fields_sql(compared, 'h.first', 'h.last')})
) AS e(step, op, at, old_data, new_data, changed_fields)
ORDER BY 1;
SELECT setval(pg_get_serial_sequence('public.audit_logs', 'id'), greatest(max(id), 1), max(id) IS NOT NULL)
FROM audit_logs;
COMMIT;"""
    # GIN and BRIN built after the load (posting trees as years of writes leave them, every range
    # summarized); the btrees written row by row, as a live log's are (see without_indexes).
    without_indexes(cluster, db, "audit_logs", lambda: cluster.psql(db, sql, timeout=3600), keep_btrees=True)
    cluster.psql(db, "VACUUM (ANALYZE) audit_logs", timeout=3600)
    return int(cluster.value(db, "SELECT count(*) FROM audit_logs"))
