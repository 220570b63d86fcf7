-- What herald last told the channels of a managed webhook, so that each is said once.
ALTER TABLE hub_webhooks ADD COLUMN announced TEXT;          -- 'disabled' while it is
ALTER TABLE hub_webhooks ADD COLUMN quota_warned_at INTEGER; -- set at 80% of the quota
