-- Issue 17: the read model's units version (server/sqlitestore/migrations
-- 0012_units_version.sql translated; the reasons are there). One statement
-- trigger per table: any insert, update, delete or truncate moves it.
CREATE TABLE admin_units_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO admin_units_version (id, version) VALUES (1, 1);

CREATE FUNCTION admin_units_version_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE admin_units_version SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER admin_units_version_move AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_units
    FOR EACH STATEMENT EXECUTE FUNCTION admin_units_version_move();
CREATE TRIGGER admin_unit_predecessors_version_move AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_unit_predecessors
    FOR EACH STATEMENT EXECUTE FUNCTION admin_units_version_move();
