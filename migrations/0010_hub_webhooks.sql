-- The Hub webhooks herald creates and keeps in sync with the subscriptions: the operator's
-- (owner 'operator'), and later one per workspace connected to a Hub account.
CREATE TABLE hub_webhooks (
    owner         TEXT    PRIMARY KEY,
    hub_id        TEXT,                       -- the Hub's id; NULL until created or found
    url           TEXT    NOT NULL DEFAULT '',
    domains       TEXT    NOT NULL DEFAULT '',  -- space-separated, as the Hub last said
    watched       TEXT    NOT NULL DEFAULT '[]',-- JSON [{type, name}], as the Hub last said
    disabled      INTEGER NOT NULL DEFAULT 0,
    left_out      TEXT    NOT NULL DEFAULT '[]',-- JSON [[target, why]]: what cannot be watched
    version       INTEGER NOT NULL DEFAULT -1,  -- the subscriptions' version last put on it
    reconciled_at INTEGER,                      -- unix ms of the last attempt
    outcome       TEXT,                         -- what it did, or what went wrong
    ok            INTEGER NOT NULL DEFAULT 0,   -- 1 when the last attempt succeeded
    failures      INTEGER NOT NULL DEFAULT 0,   -- attempts failed in a row
    holder        TEXT,                         -- the process reconciling it...
    held_until    INTEGER                       -- ...until then (unix ms)
) WITHOUT ROWID;
