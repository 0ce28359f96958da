-- Priority lanes, as in the SQLite WAL (0010-lanes.sql): a message and its deliveries keep their lane's priority
-- (0 first, 4 the lane of a gateway that configures none), a partition leases by priority and then in WAL order, and a
-- replay restarts the lane's time to live.
ALTER TABLE wal_message ADD COLUMN lane smallint NOT NULL DEFAULT 4;
ALTER TABLE wal_delivery ADD COLUMN lane smallint NOT NULL DEFAULT 4;
ALTER TABLE wal_delivery ADD COLUMN replayed_at bigint NULL;

DROP INDEX ix_wal_delivery_enqueued;
CREATE INDEX ix_wal_delivery_enqueued ON wal_delivery (sink, partition, lane, id) WHERE state = 0;
