-- Switches posts' audit from chronicle's row-mode trigger to its statement mode: the
-- same function fired FOR EACH STATEMENT with transition tables, one trigger per
-- operation (all audit rows of a statement written in one pass).
DROP TRIGGER posts_audit_trigger ON posts;
CREATE TRIGGER posts_audit_insert AFTER INSERT ON posts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER posts_audit_update AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER posts_audit_delete AFTER DELETE ON posts REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
