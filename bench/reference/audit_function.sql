-- The reference's V004 audit function, verbatim but for its name:
-- the reference database's trigger (triggers.sql) and the instructions meter
-- (harness/callgrind.py, which loads it into a chronicle database, where
-- chronicle's own audit_trigger_function() already exists) run this one copy. It writes the
-- audit_logs of the caller's search_path (public, or the extension's schema).
CREATE FUNCTION reference_audit_trigger_function()
RETURNS TRIGGER AS $$
DECLARE
    changed_fields TEXT[] := ARRAY[]::TEXT[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.title IS DISTINCT FROM NEW.title THEN
            changed_fields := array_append(changed_fields, 'title');
        END IF;
        IF OLD.content IS DISTINCT FROM NEW.content THEN
            changed_fields := array_append(changed_fields, 'content');
        END IF;
        IF OLD.status IS DISTINCT FROM NEW.status THEN
            changed_fields := array_append(changed_fields, 'status');
        END IF;
    END IF;
    INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data, new_data, changed_fields)
    VALUES (TG_TABLE_NAME, TG_OP, COALESCE(NEW.id, OLD.id), COALESCE(NEW.user_id, OLD.user_id),
        CASE WHEN TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN row_to_json(OLD)::JSONB ELSE NULL END,
        CASE WHEN TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN row_to_json(NEW)::JSONB ELSE NULL END,
        changed_fields);
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;
