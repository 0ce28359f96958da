-- Device activity committed with every append, so the device grain writes no state of its own per message.
ALTER TABLE wal_device ADD COLUMN first_seen_at INTEGER NULL;
ALTER TABLE wal_device ADD COLUMN last_seen_at INTEGER NULL;
ALTER TABLE wal_device ADD COLUMN accepted_count INTEGER NOT NULL DEFAULT 0;
