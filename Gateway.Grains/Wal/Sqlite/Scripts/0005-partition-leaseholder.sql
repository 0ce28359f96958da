-- Which activation of a partition grain may lease its records. An activation claims its partition when it starts
-- (returning the InFlight records of any earlier one to the queue); from then on a lease or recovery by an earlier
-- holder (a silo declared dead that still runs) changes nothing, so it can neither strand records nor reorder them.
CREATE TABLE wal_partition_leaseholder (
    sink      TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    holder    INTEGER NOT NULL,
    PRIMARY KEY (sink, partition)
) WITHOUT ROWID;
