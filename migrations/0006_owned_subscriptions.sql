-- A subscription belongs to its owner: the operator (workspace NULL) or one workspace.
-- The same target in the same channel may be followed by several owners, each with its
-- own row that only its owner sees and changes. SQLite cannot change a table's UNIQUE
-- constraint in place, so the table is rebuilt.

CREATE TABLE subscriptions_new (
    -- AUTOINCREMENT: an id is never given again, so that the deliveries and templates of a
    -- removed subscription can never become another owner's.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    target          TEXT    NOT NULL,
    target_kind     TEXT    NOT NULL CHECK (target_kind IN ('repo', 'namespace', 'all')),
    repo_type       TEXT    NOT NULL DEFAULT '',
    match_key       TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      TEXT    NOT NULL,
    workspace       TEXT,
    threads         TEXT    NOT NULL DEFAULT 'thread+channel',
    paused_reason   TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    -- 1 once the channel was confirmed to be of the workspace (by the platform).
    channel_checked INTEGER NOT NULL DEFAULT 0
);
INSERT INTO subscriptions_new (id, target, target_kind, repo_type, match_key, scopes, channel,
    source, created_at, created_by, workspace, threads, paused_reason, failures, channel_checked)
SELECT id, target, target_kind, repo_type, match_key, scopes, channel, source, created_at,
    created_by, workspace, threads, paused_reason, failures, workspace IS NULL
FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_new RENAME TO subscriptions;

CREATE UNIQUE INDEX subscriptions_owned
    ON subscriptions (target_kind, match_key, repo_type, channel, COALESCE(workspace, ''));
CREATE INDEX subscriptions_match ON subscriptions (target_kind, match_key);
CREATE INDEX subscriptions_workspace ON subscriptions (workspace);

CREATE TRIGGER subscriptions_version_insert AFTER INSERT ON subscriptions
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
CREATE TRIGGER subscriptions_version_update AFTER UPDATE ON subscriptions
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
CREATE TRIGGER subscriptions_version_delete AFTER DELETE ON subscriptions
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;

-- A workspace's subscriptions stored before channels were checked get no events until the
-- platform confirms their channel is the workspace's (herald asks at start, then every ten
-- minutes, and pauses with the reason, in the log too, any that is not).

-- Signed Discord and Slack requests already answered, refused if they come again.
CREATE TABLE seen_requests (
    key         TEXT    PRIMARY KEY,        -- discord:<interaction id> | slack:<signature>
    expires_at  INTEGER NOT NULL            -- unix ms; forgotten after this
) WITHOUT ROWID;
CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);

-- Bodies of events that reached nobody are dropped after a while; events before this id
-- were looked at already.
INSERT INTO meta (key, value) VALUES ('bodies_checked_to', 0);

-- What each webhook endpoint stored per UTC day, against its budget.
CREATE TABLE endpoint_usage (
    endpoint    TEXT    NOT NULL,           -- 'operator' or the workspace (one endpoint each)
    day         INTEGER NOT NULL,           -- days since 1970-01-01, UTC
    events      INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    PRIMARY KEY (endpoint, day)
) WITHOUT ROWID;
