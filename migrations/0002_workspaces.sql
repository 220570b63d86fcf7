-- Workspaces (a Discord guild, a Slack team) with their own subscriptions, webhook
-- endpoints and templates.

-- NULL: the operator's (bot.toml and the CLI); else 'discord:<guild id>' or 'slack:<team id>'.
ALTER TABLE subscriptions ADD COLUMN workspace TEXT;
CREATE INDEX subscriptions_workspace ON subscriptions (workspace);

CREATE TABLE endpoints (
    id              TEXT    PRIMARY KEY,       -- random; the {endpoint_id} of /webhooks/hf/{endpoint_id}
    workspace       TEXT    NOT NULL UNIQUE,
    secret_hash     TEXT    NOT NULL,          -- SHA-256 of the secret, hex; the secret is shown once
    previous_hash   TEXT,                      -- the secret before the last rotation...
    previous_until  INTEGER,                   -- ...accepted until this time (unix ms)
    created_at      INTEGER NOT NULL,
    created_by      TEXT    NOT NULL
);

CREATE TABLE templates (
    workspace       TEXT    NOT NULL,
    subscription_id INTEGER NOT NULL DEFAULT 0, -- 0: every subscription of the workspace
    scope           TEXT    NOT NULL,           -- or 'default'
    body            TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT    NOT NULL,
    PRIMARY KEY (workspace, subscription_id, scope)
);

-- What happened besides the outcome, e.g. a template that failed and the built-in one used.
ALTER TABLE deliveries ADD COLUMN note TEXT;
