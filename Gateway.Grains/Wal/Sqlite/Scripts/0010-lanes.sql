-- Priority lanes. A message, and each of its deliveries, keeps the priority of its lane (0 first, 9 last; 4 is the lane
-- of a gateway that configures none, and of every record stored before this). A partition leases by priority, then in
-- WAL order, so the Enqueued index leads with the partition and then the lane: one index, no more pages per append.
ALTER TABLE wal_message ADD COLUMN lane INTEGER NOT NULL DEFAULT 4;
ALTER TABLE wal_delivery ADD COLUMN lane INTEGER NOT NULL DEFAULT 4;
-- When an operator last replayed the delivery: a lane's time to live counts from it, not from the message's arrival,
-- so a replayed record is not expired again at once.
ALTER TABLE wal_delivery ADD COLUMN replayed_at INTEGER NULL;

DROP INDEX ix_wal_delivery_enqueued;
CREATE INDEX ix_wal_delivery_enqueued ON wal_delivery (sink, partition, lane, id) WHERE state = 0;
