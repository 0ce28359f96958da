-- Admin API support, as on SQLite (Wal/Scripts/0004-history.sql).
--
-- Every change of a delivery's state (or attempt count) leaves one row here, written by a trigger in the same
-- statement, so every write path (lease, ack, failure, recovery, replay) on every node records its history
-- without code of its own, and appends (which only insert) pay nothing. The Enqueued state a delivery starts
-- in is the message's received_at.
CREATE TABLE wal_delivery_event (
    id          bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint   NOT NULL,
    at          bigint   NOT NULL,
    from_state  smallint NOT NULL,
    to_state    smallint NOT NULL,
    attempts    integer  NOT NULL,
    error       text     NULL      -- set when the change counted a failed attempt
);

CREATE INDEX ix_wal_delivery_event_delivery ON wal_delivery_event (delivery_id);

-- Statement-level with transition tables: a lease or a failure of a whole batch writes its history in one
-- insert instead of one trigger call per row.
CREATE FUNCTION wal_delivery_record_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wal_delivery_event (delivery_id, at, from_state, to_state, attempts, error)
    SELECT n.id, n.updated_at, o.state, n.state, n.attempts,
           CASE WHEN n.attempts > o.attempts THEN n.last_error END
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE o.state <> n.state OR o.attempts <> n.attempts
    ORDER BY n.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tr_wal_delivery_event AFTER UPDATE ON wal_delivery
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION wal_delivery_record_events();

-- History goes with its delivery (compaction, purge).
CREATE FUNCTION wal_delivery_delete_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM wal_delivery_event WHERE delivery_id IN (SELECT id FROM gone_rows);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tr_wal_delivery_event_delete AFTER DELETE ON wal_delivery
REFERENCING OLD TABLE AS gone_rows
FOR EACH STATEMENT EXECUTE FUNCTION wal_delivery_delete_events();

-- Devices the gateway knows before they send anything (credentials provisioned, disabled), for listing: grains
-- cannot be enumerated. Devices that stored messages are listed from wal_device.
CREATE TABLE wal_device_directory (
    device_id  text COLLATE "C" PRIMARY KEY,
    first_seen bigint NULL,
    last_seen  bigint NULL
);
