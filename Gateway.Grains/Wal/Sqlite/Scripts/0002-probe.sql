-- One row that readiness rewrites through the group-commit writer: a real, synced write to the WAL file
-- that touches no message data.
CREATE TABLE wal_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    written_at INTEGER NOT NULL
);
