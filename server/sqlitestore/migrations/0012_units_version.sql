-- Issue 17: the read model (server/analytics) read every admin unit and
-- built their tree again at each question. admin_units_version moves at
-- every change to admin_units or admin_unit_predecessors, whoever makes it
-- (this process, the CLI, another server process, a migration): triggers
-- move it, not the code that writes. The model rebuilds its tree only when
-- the version differs from the one its tree was built at.
CREATE TABLE admin_units_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO admin_units_version (id, version) VALUES (1, 1);

CREATE TRIGGER admin_units_version_insert AFTER INSERT ON admin_units
BEGIN UPDATE admin_units_version SET version = version + 1; END;
CREATE TRIGGER admin_units_version_update AFTER UPDATE ON admin_units
BEGIN UPDATE admin_units_version SET version = version + 1; END;
CREATE TRIGGER admin_units_version_delete AFTER DELETE ON admin_units
BEGIN UPDATE admin_units_version SET version = version + 1; END;
CREATE TRIGGER admin_unit_predecessors_version_insert AFTER INSERT ON admin_unit_predecessors
BEGIN UPDATE admin_units_version SET version = version + 1; END;
CREATE TRIGGER admin_unit_predecessors_version_update AFTER UPDATE ON admin_unit_predecessors
BEGIN UPDATE admin_units_version SET version = version + 1; END;
CREATE TRIGGER admin_unit_predecessors_version_delete AFTER DELETE ON admin_unit_predecessors
BEGIN UPDATE admin_units_version SET version = version + 1; END;
