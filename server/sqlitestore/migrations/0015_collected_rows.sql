-- Issue 17 (the simulation's wide and silent worlds together, seeds 5029,
-- 5186, 5241, 5277): the ids of the rows collection removed. A copy of a
-- laptop's data folder that had not seen a row's delete can push the row's
-- creation again under a new replica id after the server collected it
-- (its writes renumbered, nothing in them naming a version the server
-- held); taken for a new row, the deleted household came back on the
-- server while every replica that held the tombstone kept it deleted. A
-- row id is never issued twice, so one found here is refused
-- (row_collected). A row takes about 40 bytes here for good; rows
-- collected before this migration are not listed. Keyed by row first:
-- the apply path asks by row id.
CREATE TABLE sync_collected (
    tbl TEXT NOT NULL,
    row BLOB NOT NULL,
    PRIMARY KEY (row, tbl)
) WITHOUT ROWID;
