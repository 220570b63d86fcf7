-- An event is normalized from its raw body whenever it is read: the body is the record,
-- and a parser fix applies to events already stored. Ids follow arrival, so retention
-- finds old events by id and the index on received_at goes. Both make each stored
-- webhook cheaper to write.
DROP INDEX events_received;
ALTER TABLE events DROP COLUMN normalized;
