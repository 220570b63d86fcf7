-- Threads, pausing broken subscriptions, merged bursts, and per-channel queues.

-- none | thread | thread+channel: where the events of one discussion or PR go.
ALTER TABLE subscriptions ADD COLUMN threads TEXT NOT NULL DEFAULT 'thread+channel';
-- Set after repeated permanent failures; no deliveries are made while it is set.
ALTER TABLE subscriptions ADD COLUMN paused_reason TEXT;
ALTER TABLE subscriptions ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

-- The thread that holds one discussion's events in one channel.
CREATE TABLE threads (
    channel     TEXT    NOT NULL,
    thread_key  TEXT    NOT NULL,          -- type/owner/name#num
    thread_id   TEXT    NOT NULL,          -- Discord: the thread's channel id; Slack: the parent's ts
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel, thread_key)
);

-- Delivered as part of the message of that delivery (a merged burst).
ALTER TABLE deliveries ADD COLUMN merged_into INTEGER;
-- Each channel is its own ordered queue: its head is the lowest open id.
CREATE INDEX deliveries_lane ON deliveries (channel, status, id);
