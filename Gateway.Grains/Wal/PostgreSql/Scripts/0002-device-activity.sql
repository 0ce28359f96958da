-- Device activity committed with every append (as on SQLite, Wal/Scripts/0003-device-activity.sql), so the
-- device grain writes no state of its own per message.
ALTER TABLE wal_device
    ADD COLUMN first_seen_at  bigint NULL,
    ADD COLUMN last_seen_at   bigint NULL,
    ADD COLUMN accepted_count bigint NOT NULL DEFAULT 0;

-- Devices are listed in pages by id; byte order ("C") makes the pages the same as on SQLite whatever the
-- database's locale, and lets the primary key serve the page's range.
ALTER TABLE wal_device ALTER COLUMN device_id TYPE text COLLATE "C";
