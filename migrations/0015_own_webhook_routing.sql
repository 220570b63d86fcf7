-- A workspace hears of its repos from its own account's webhook once that webhook exists
-- (store/subscriptions.rs): its coming to exist on the Hub, or going, changes routing.
CREATE TRIGGER hub_webhooks_made AFTER UPDATE OF hub_id ON hub_webhooks
WHEN NEW.owner != 'operator' AND (OLD.hub_id IS NULL) != (NEW.hub_id IS NULL)
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
CREATE TRIGGER hub_webhooks_gone AFTER DELETE ON hub_webhooks
WHEN OLD.owner != 'operator' AND OLD.hub_id IS NOT NULL
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions'; END;
