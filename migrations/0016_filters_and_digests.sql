-- Filters, noise defaults and digests live on subscriptions (route/filter, route/judge.rs,
-- route/schedule.rs; digests are made by deliver/digest.rs).

-- The filter's canonical text; '' for none.
ALTER TABLE subscriptions ADD COLUMN filter TEXT NOT NULL DEFAULT '';
-- 1: the noise defaults (conversion refs, PR refs beside the PR's own events) are off.
ALTER TABLE subscriptions ADD COLUMN all_events INTEGER NOT NULL DEFAULT 0;
-- 'instant', 'daily HH:MM' or 'weekly DAY HH:MM', in the IANA zone `tz`.
ALTER TABLE subscriptions ADD COLUMN mode TEXT NOT NULL DEFAULT 'instant';
ALTER TABLE subscriptions ADD COLUMN tz TEXT NOT NULL DEFAULT 'UTC';

-- Deliveries gain three finished or waiting states, which SQLite lets a CHECK gain only
-- by building the table again:
--   skipped:  a filter the Hub API's facts decided left it out (last_error says which);
--   held:     waiting, until due_at, for its channel's digest;
--   digested: told in the digest delivery `merged_into`.
CREATE TABLE deliveries_new (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscription_id INTEGER,
    channel         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'held', 'digested')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    message_id      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    note            TEXT,
    merged_into     INTEGER,
    UNIQUE (event_id, channel)
);
INSERT INTO deliveries_new (id, event_id, subscription_id, channel, status, attempts, due_at,
                            lease_until, last_error, message_id, created_at, sent_at, note, merged_into)
SELECT id, event_id, subscription_id, channel, status, attempts, due_at,
       lease_until, last_error, message_id, created_at, sent_at, note, merged_into
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (status, due_at);
CREATE INDEX deliveries_lane ON deliveries (channel, status, id);
