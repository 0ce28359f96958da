-- The message WAL in the cluster's PostgreSQL database: the same tables and states as the SQLite WAL
-- (Wal/Scripts), shared by every node. Delivery states: 0 Enqueued -> 1 InFlight -> 2 Acked | 3 Dead.
-- Times are Unix milliseconds.
CREATE TABLE wal_message (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- WAL order
    message_id        text     NOT NULL,
    device_id         text     NOT NULL,
    device_sequence   bigint   NOT NULL,
    device_message_id text     NULL,
    received_at       bigint   NOT NULL,
    content_type      text     NOT NULL,
    payload           bytea    NOT NULL,
    trace_parent      text     NULL,
    topic             text     NOT NULL
);

CREATE INDEX ix_wal_message_device ON wal_message (device_id, device_sequence);

CREATE TABLE wal_delivery (
    id              bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_seq     bigint   NOT NULL,
    sink            text     NOT NULL,
    partition       integer  NOT NULL,
    state           smallint NOT NULL,
    attempts        integer  NOT NULL DEFAULT 0,
    next_attempt_at bigint   NULL,
    first_error     text     NULL,
    last_error      text     NULL,
    updated_at      bigint   NOT NULL
);

CREATE INDEX ix_wal_delivery_enqueued ON wal_delivery (sink, partition, id) WHERE state = 0;
CREATE INDEX ix_wal_delivery_inflight ON wal_delivery (sink, partition) WHERE state = 1;
CREATE INDEX ix_wal_delivery_acked    ON wal_delivery (updated_at) WHERE state = 2;
CREATE INDEX ix_wal_delivery_dead     ON wal_delivery (sink, id) WHERE state = 3;
CREATE INDEX ix_wal_delivery_message  ON wal_delivery (message_seq);

CREATE TABLE wal_device (
    device_id     text   PRIMARY KEY,
    last_sequence bigint NOT NULL
);

-- One row per node that readiness rewrites through the node's writer: nodes never wait on each other's probe.
CREATE TABLE wal_probe (
    node       text   PRIMARY KEY,
    written_at bigint NOT NULL
);

-- Counts of deliveries by state and pending payload bytes, as deltas: each node's writer adds what its
-- commit changed to its own row, in that same transaction, so the sum over rows is always exact and nodes
-- never contend for one hot row. A node folds the rows of earlier processes into the row '' at start.
CREATE TABLE wal_counter (
    node          text   PRIMARY KEY,
    enqueued      bigint NOT NULL DEFAULT 0,
    in_flight     bigint NOT NULL DEFAULT 0,
    acked         bigint NOT NULL DEFAULT 0,
    dead          bigint NOT NULL DEFAULT 0,
    pending_bytes bigint NOT NULL DEFAULT 0
);
