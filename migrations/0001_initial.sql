-- Events are stored before the Hub gets its 2xx; deliveries are the outbox.

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,           -- unix milliseconds
    endpoint    TEXT    NOT NULL,           -- 'operator', or a workspace endpoint id
    format      TEXT    NOT NULL,           -- v3 | v2 | legacy | draft
    scope       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    repo_type   TEXT    NOT NULL,
    repo_name   TEXT    NOT NULL,
    normalized  TEXT    NOT NULL,           -- the Event as JSON
    raw         BLOB    NOT NULL            -- the body exactly as received
);
CREATE INDEX events_received ON events (received_at);

CREATE TABLE subscriptions (
    id          INTEGER PRIMARY KEY,
    target      TEXT    NOT NULL,           -- as displayed: owner/name, datasets/owner/*, *
    target_kind TEXT    NOT NULL CHECK (target_kind IN ('repo', 'namespace', 'all')),
    repo_type   TEXT    NOT NULL DEFAULT '', -- '': any type
    match_key   TEXT    NOT NULL,           -- lowercase: type/owner/name, owner, or '*'
    scopes      TEXT    NOT NULL,           -- space-separated; empty: every scope
    channel     TEXT    NOT NULL,           -- discord:<id> | slack:<id> | console:<label>
    source      TEXT    NOT NULL,           -- 'config' or 'cli'
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    UNIQUE (target_kind, match_key, repo_type, channel)
);
-- Routing looks subscriptions up by key, never scans them.
CREATE INDEX subscriptions_match ON subscriptions (target_kind, match_key);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscription_id INTEGER,               -- kept as a plain number: the subscription may go
    channel         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL,      -- unix ms; when it may next be tried
    lease_until     INTEGER,               -- unix ms; a 'sending' row past this is reclaimed
    last_error      TEXT,
    message_id      TEXT,                  -- the platform's id for the posted message
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (event_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (status, due_at);
