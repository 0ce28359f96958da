-- As on SQLite (Wal/Scripts/0005-partition-leaseholder.sql): which activation of a partition grain may lease its
-- records. A claim updates the row; leases and recoveries lock it FOR SHARE, so a claim and an earlier holder's
-- lease on another node are serialized: the lease either commits before the claim (whose recovery then returns
-- what it leased) or sees the new holder and takes nothing.
CREATE TABLE wal_partition_leaseholder (
    sink      text    NOT NULL,
    partition integer NOT NULL,
    holder    bigint  NOT NULL,
    PRIMARY KEY (sink, partition)
);
