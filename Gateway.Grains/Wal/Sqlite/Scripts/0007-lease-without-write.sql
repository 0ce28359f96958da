-- Edge footprint. A lease is no longer written: the records a partition has leased are held in memory
-- (LeasedDeliveries), and after a crash they are simply still Enqueued, as recovery made InFlight rows before. The
-- ack or failure that settles an attempt records what the lease did: the first lease's time in leased_at, and the
-- attempt's start in attempt_started_at, which the history trigger turns into the attempt's InFlight row. Rows left
-- InFlight by an earlier version go back to Enqueued when their partition is next claimed.
ALTER TABLE wal_delivery ADD COLUMN attempt_started_at INTEGER NULL;

DROP TRIGGER tr_wal_delivery_event;

-- Changes other than an attempt settled from Enqueued, as before (0006).
CREATE TRIGGER tr_wal_delivery_event AFTER UPDATE OF state ON wal_delivery
WHEN (old.state <> new.state OR old.attempts <> new.attempts)
    AND NOT (old.state = 0 AND new.state = 1 AND old.leased_at IS NULL)
    AND NOT (old.state = 1 AND new.state = 2)
    AND NOT (old.state = 0 AND (new.state = 2 OR new.attempts > old.attempts))
BEGIN
    INSERT INTO wal_delivery_event (delivery_id, at, from_state, to_state, attempts, error)
    VALUES (new.id, new.updated_at, old.state, new.state, new.attempts,
            CASE WHEN new.attempts > old.attempts THEN new.last_error END);
END;

-- An attempt settled from Enqueued (its lease was not written): the rows the lease and the outcome would have left.
-- The first lease has none (its time is leased_at), nor has an ack (its time is updated_at, Acked being final).
CREATE TRIGGER tr_wal_delivery_attempt AFTER UPDATE OF state ON wal_delivery
WHEN old.state = 0 AND (new.state = 2 OR new.attempts > old.attempts)
BEGIN
    INSERT INTO wal_delivery_event (delivery_id, at, from_state, to_state, attempts, error)
    SELECT new.id, new.attempt_started_at, 0, 1, old.attempts, NULL WHERE old.leased_at IS NOT NULL;
    INSERT INTO wal_delivery_event (delivery_id, at, from_state, to_state, attempts, error)
    SELECT new.id, new.updated_at, 1, new.state, new.attempts, new.last_error WHERE new.state <> 2;
END;
