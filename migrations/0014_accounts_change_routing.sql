-- A workspace with its own Hub account gets its events from its own webhook only: routing
-- reads that with the subscriptions (store/subscriptions.rs), so a change of accounts is a
-- change of the subscriptions' version, and every cached lookup is made again.
CREATE TRIGGER hub_accounts_insert AFTER INSERT ON hub_accounts
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
CREATE TRIGGER hub_accounts_revoked AFTER UPDATE OF revoked ON hub_accounts
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
CREATE TRIGGER hub_accounts_delete AFTER DELETE ON hub_accounts
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
