-- Drain speed. Every delivered record makes two transitions, its first lease and its ack, and each wrote a history
-- row with its index entry: that tripled the writes of a backlog drain. Neither writes a row now. The first lease's
-- time is kept on the delivery row (leased_at, set by the same update), the ack's is the row's updated_at (Acked is
-- final), and reading a delivery's history puts both back (DeliveryHistory). Every other change (the lease of a
-- retry or after a recovery, failures, recoveries, dead letters, replays) is recorded as before.
ALTER TABLE wal_delivery ADD COLUMN leased_at INTEGER NULL;

DROP TRIGGER tr_wal_delivery_event;

CREATE TRIGGER tr_wal_delivery_event AFTER UPDATE OF state ON wal_delivery
WHEN (old.state <> new.state OR old.attempts <> new.attempts)
    AND NOT (old.state = 0 AND new.state = 1 AND old.leased_at IS NULL)
    AND NOT (old.state = 1 AND new.state = 2)
BEGIN
    INSERT INTO wal_delivery_event (delivery_id, at, from_state, to_state, attempts, error)
    VALUES (new.id, new.updated_at, old.state, new.state, new.attempts,
            CASE WHEN new.attempts > old.attempts THEN new.last_error END);
END;
