-- Edge footprint. An append commits only its messages: a message's delivery rows (its routes, as the partition keys
-- "sink/partition" separated by spaces, route number = position) are written by a later commit that does not sync of
-- its own (an ack, a failure, the commit a lease waits for; UnwrittenDeliveries), since they follow from the routes the
-- message row keeps. After a crash, the messages above the newest delivery row get their rows when the WAL opens.
-- NULL: a message stored before this, whose rows were written with it.
ALTER TABLE wal_message ADD COLUMN routes TEXT NULL;
