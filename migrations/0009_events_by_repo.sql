-- A discussion's earlier status is looked up among the last events of its repo
-- (store/events.rs discussion_status_before): by repo, newest first, without a scan.
CREATE INDEX events_repo ON events (repo_name, id);
