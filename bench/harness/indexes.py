"""Bulk loads into an indexed table: drop the indexes, load, build them again."""


def without_indexes(cluster, db, table, load, keep_btrees=False):
    """Runs load() with table's indexes that back no constraint dropped, then builds them again with
    their own names, definitions and comments: one sorted build each instead of row-by-row inserts.
    keep_btrees: drop only the other kinds (GIN, BRIN); the btrees take the rows one by one and end
    as full as a live table's (a built btree is packed, and the first writes into random places
    split nearly every page: index bytes and WAL that a live database does not pay)."""
    only_other = "AND am.amname <> 'btree'" if keep_btrees else ""
    indexes = cluster.rows(db, f"""
        SELECT c.relname, pg_get_indexdef(i.indexrelid), coalesce(obj_description(i.indexrelid, 'pg_class'), '')
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'public.{table}'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) {only_other}
        ORDER BY c.relname""")
    for name, _, _ in indexes:
        cluster.psql(db, f'DROP INDEX public."{name}"')
    result = load()
    for name, definition, comment in indexes:
        sql = f"SET maintenance_work_mem = '256MB'; {definition};"
        if comment:
            sql += f" COMMENT ON INDEX public.\"{name}\" IS '{comment.replace(chr(39), chr(39) * 2)}';"
        cluster.psql(db, sql, timeout=3600)
    return result
