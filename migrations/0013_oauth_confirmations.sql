-- A sign-in the Hub accepted, waiting for the person who asked in chat to confirm it with
-- the code the sign-in page showed: a link clicked by someone else connects nothing.
CREATE TABLE oauth_confirmations (
    code_hash   TEXT    PRIMARY KEY,        -- SHA-256 of the code, hex
    workspace   TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    channel     TEXT,
    username    TEXT    NOT NULL,           -- who signed in on the Hub
    token       BLOB    NOT NULL,           -- sealed, bound to the code's hash
    refresh     BLOB,
    expires_in  INTEGER,
    expires_at  INTEGER NOT NULL,
    misses      INTEGER NOT NULL DEFAULT 0  -- wrong codes typed by that user
) WITHOUT ROWID;
CREATE INDEX oauth_confirmations_who ON oauth_confirmations (workspace, user);
-- The secret last given to each managed webhook (hashed): a new one is sent to the Hub.
ALTER TABLE hub_webhooks ADD COLUMN secret_hash TEXT;
