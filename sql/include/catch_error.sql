-- catch_error(sql): runs `sql` and returns the error it raised, field by field,
-- so that tests assert SQLSTATE (code), message, detail, hint and the table/column
-- fields exactly. Returns no row when `sql` succeeds.
CREATE FUNCTION pg_temp.catch_error(sql text)
RETURNS TABLE (code text, message text, detail text, hint text,
               schema_name text, table_name text, column_name text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS
        code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
        detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT,
        schema_name = SCHEMA_NAME, table_name = TABLE_NAME, column_name = COLUMN_NAME;
    detail := nullif(detail, ''); hint := nullif(hint, '');
    schema_name := nullif(schema_name, ''); table_name := nullif(table_name, '');
    column_name := nullif(column_name, '');
    RETURN NEXT;
END
$$;
