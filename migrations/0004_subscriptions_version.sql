-- A counter that moves whenever subscriptions change (from any process), so that the
-- ingest writer may keep routing lookups in memory and knows when to drop them.
CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('subscriptions', 0);

CREATE TRIGGER subscriptions_version_insert AFTER INSERT ON subscriptions
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
CREATE TRIGGER subscriptions_version_update AFTER UPDATE ON subscriptions
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
CREATE TRIGGER subscriptions_version_delete AFTER DELETE ON subscriptions
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
