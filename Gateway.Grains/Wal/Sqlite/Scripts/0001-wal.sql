-- The message WAL. A message is stored once; each sink that must receive it has one delivery row with
-- its own lifecycle: state 0 Enqueued -> 1 InFlight -> 2 Acked | 3 Dead. Times are Unix milliseconds.
CREATE TABLE wal_message (
    seq               INTEGER PRIMARY KEY,  -- WAL order
    message_id        TEXT    NOT NULL,     -- stable id sent upstream: {gateway}:{device}:{sequence}
    device_id         TEXT    NOT NULL,
    device_sequence   INTEGER NOT NULL,
    device_message_id TEXT    NULL,         -- the device's own id, for dropping retransmissions
    received_at       INTEGER NOT NULL,
    content_type      TEXT    NOT NULL,
    payload           BLOB    NOT NULL,
    trace_parent      TEXT    NULL,
    topic             TEXT    NOT NULL
);

CREATE INDEX ix_wal_message_device ON wal_message (device_id, device_sequence);

CREATE TABLE wal_delivery (
    id              INTEGER PRIMARY KEY,
    message_seq     INTEGER NOT NULL,
    sink            TEXT    NOT NULL,
    partition       INTEGER NOT NULL,
    state           INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NULL,
    first_error     TEXT    NULL,
    last_error      TEXT    NULL,
    updated_at      INTEGER NOT NULL
);

-- One small partial index per state keeps each lookup independent of how many records the others hold:
-- leasing reads the head of one partition, whatever the backlog or the acked history.
CREATE INDEX ix_wal_delivery_enqueued ON wal_delivery (sink, partition, id) WHERE state = 0;
CREATE INDEX ix_wal_delivery_inflight ON wal_delivery (sink, partition) WHERE state = 1;
CREATE INDEX ix_wal_delivery_acked    ON wal_delivery (updated_at) WHERE state = 2;
CREATE INDEX ix_wal_delivery_dead     ON wal_delivery (sink, id) WHERE state = 3;
CREATE INDEX ix_wal_delivery_message  ON wal_delivery (message_seq);

-- The highest sequence each device has been given, committed with the messages that use it, so a
-- sequence (and so a message id) is never handed out twice, even after compaction removes the messages.
CREATE TABLE wal_device (
    device_id     TEXT    PRIMARY KEY,
    last_sequence INTEGER NOT NULL
) WITHOUT ROWID;
