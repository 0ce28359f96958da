-- Edge footprint. ix_wal_message_device wrote a page per message in every append's synced commit: a device's entries
-- sit together, so a commit of three devices' messages wrote three leaves (half of all journal frames at 1,000 devices),
-- and its thousand hot leaves went to the database file again at every checkpoint. The same entries now live in
-- wal_device_message, written in batches by a later commit (UnindexedMessages): a batch of seconds writes each device's
-- leaf once. The messages above wal_device_index.indexed_through are not in it yet; every read by device adds them from
-- the tail of wal_message (a range of its rowid), so reads stay exact (SqliteDeviceMessages).
CREATE TABLE wal_device_message (
    device_id       TEXT    NOT NULL,
    device_sequence INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (device_id, device_sequence)
) WITHOUT ROWID;

CREATE TABLE wal_device_index (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);

INSERT OR IGNORE INTO wal_device_message (device_id, device_sequence, seq)
SELECT device_id, device_sequence, seq FROM wal_message ORDER BY device_id, device_sequence;

INSERT INTO wal_device_index (id, indexed_through) VALUES (1, coalesce((SELECT max(seq) FROM wal_message), 0));

DROP INDEX ix_wal_message_device;
