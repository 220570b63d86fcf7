-- What the Hub's API added to an event (names, commit titles, changed files), fetched
-- once and reused by every channel, retry and replay; `missing` says what could not be
-- added and why. Gone with its event.
CREATE TABLE event_enrichment (
    event_id INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    done_at INTEGER NOT NULL,
    facts TEXT NOT NULL,
    missing TEXT
);
