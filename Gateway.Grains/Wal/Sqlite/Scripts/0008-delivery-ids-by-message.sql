-- Edge footprint. A delivery's id is its message's seq * 256 + its route number (DeliveryIds), so a message's
-- deliveries are a range of the table's key and ix_wal_delivery_message, one more page written by every append, goes.
-- Existing deliveries are renumbered the same way (in id order within a message), their history with them; ids keep
-- WAL order, which leases and dead-letter paging rely on.
CREATE TEMP TABLE delivery_renumbering AS
    SELECT id AS old_id, message_seq * 256 + row_number() OVER (PARTITION BY message_seq ORDER BY id) - 1 AS new_id
    FROM wal_delivery;

UPDATE wal_delivery_event SET delivery_id = (SELECT new_id FROM delivery_renumbering WHERE old_id = delivery_id);

-- Out of the way first (no new id may meet an old one mid-update), then to the new ids.
UPDATE wal_delivery SET id = -id - 1;
UPDATE wal_delivery SET id = (SELECT new_id FROM delivery_renumbering WHERE old_id = -wal_delivery.id - 1);

DROP TABLE delivery_renumbering;
DROP INDEX ix_wal_delivery_message;
