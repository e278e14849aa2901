-- What syncing needs to remember: answers GitHub gave about a record, when each edge was
-- last seen (so a complete pass can drop edges GitHub no longer lists), the validators of
-- what was fetched (conditional requests), and where an interrupted list stands.

-- GitHub answered 404/410: the record is kept as last known, and marked.
ALTER TABLE developers ADD COLUMN gone_at TEXT;
ALTER TABLE repositories ADD COLUMN gone_at TEXT;
-- GitHub answered 451 (blocked for legal reasons): never asked again.
ALTER TABLE repositories ADD COLUMN blocked_at TEXT;
-- GitHub stops stargazer lists at 40,000; the stored list then holds only what it showed.
ALTER TABLE repositories ADD COLUMN stargazers_truncated BOOLEAN NOT NULL DEFAULT FALSE;

-- The start of the last list pass that showed the edge.
ALTER TABLE follows ADD COLUMN seen_at TEXT;
ALTER TABLE stars ADD COLUMN seen_at TEXT;

-- Validators of each URL fetched, and for list pages what the page held, so that a 304
-- (unchanged) still tells which edges exist and where the next page is.
CREATE TABLE http_cache (
    url           TEXT PRIMARY KEY NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    next_url      TEXT,
    -- JSON array of the GitHub ids a list page held.
    item_ids      TEXT,
    updated_at    TEXT NOT NULL
);

-- A list pass under way: the page to fetch next and when the pass began.
CREATE TABLE list_progress (
    list              TEXT NOT NULL,
    subject_github_id INTEGER NOT NULL,
    next_url          TEXT NOT NULL,
    pass_started      TEXT NOT NULL,
    PRIMARY KEY (list, subject_github_id)
);
