-- Admin API support. Numbered 0004 so it never collides with a 0003 written in parallel.
--
-- Every change of a delivery's state (or attempt count) leaves one row here, written by the trigger in the
-- same statement, so every write path (lease, ack, failure, recovery, replay) records its history without
-- code of its own, and appends (which only insert) pay nothing. The Enqueued state a delivery starts in is
-- the message's received_at.
CREATE TABLE wal_delivery_event (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    from_state  INTEGER NOT NULL,
    to_state    INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    error       TEXT    NULL      -- set when the change counted a failed attempt
);

CREATE INDEX ix_wal_delivery_event_delivery ON wal_delivery_event (delivery_id);

CREATE TRIGGER tr_wal_delivery_event AFTER UPDATE OF state ON wal_delivery
WHEN old.state <> new.state OR old.attempts <> new.attempts
BEGIN
    INSERT INTO wal_delivery_event (delivery_id, at, from_state, to_state, attempts, error)
    VALUES (new.id, new.updated_at, old.state, new.state, new.attempts,
            CASE WHEN new.attempts > old.attempts THEN new.last_error END);
END;

-- History goes with its delivery (compaction, purge).
CREATE TRIGGER tr_wal_delivery_event_delete AFTER DELETE ON wal_delivery
BEGIN
    DELETE FROM wal_delivery_event WHERE delivery_id = old.id;
END;

-- Devices the gateway knows before they send anything (credentials provisioned, disabled), for listing: grains
-- cannot be enumerated. Devices that stored messages are listed from wal_device.
CREATE TABLE wal_device_directory (
    device_id  TEXT    PRIMARY KEY,
    first_seen INTEGER NULL,
    last_seen  INTEGER NULL
) WITHOUT ROWID;
