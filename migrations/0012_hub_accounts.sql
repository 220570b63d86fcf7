-- Hub accounts connected by workspaces (/herald connect). Secrets are sealed with
-- security.key (store/sealed.rs), each bound to its workspace.
CREATE TABLE hub_accounts (
    workspace      TEXT    PRIMARY KEY,
    username       TEXT    NOT NULL,
    token          BLOB    NOT NULL,
    refresh_token  BLOB,                    -- when the Hub gave one
    expires_at     INTEGER,                 -- unix ms; NULL: the Hub gave no expiry
    webhook_secret BLOB    NOT NULL,        -- the secret herald gave the webhook it manages
    connected_by   TEXT    NOT NULL,
    connected_at   INTEGER NOT NULL,
    revoked        TEXT                     -- why the token stopped working (told once)
) WITHOUT ROWID;

-- Sign-ins in progress: single use, bound to a workspace and the user who asked, short-lived.
CREATE TABLE oauth_states (
    state_hash  TEXT    PRIMARY KEY,        -- SHA-256 of the state, hex: the state is not stored
    workspace   TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    channel     TEXT,                       -- where the sign-in was asked for, told once connected
    verifier    BLOB    NOT NULL,           -- the PKCE verifier, sealed
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_states_workspace ON oauth_states (workspace);
