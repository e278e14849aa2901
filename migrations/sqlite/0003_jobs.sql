-- Durable jobs: work lives in the database, so a restart, a deploy or a second instance
-- loses nothing and runs nothing twice at once.
CREATE TABLE jobs (
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    args         TEXT NOT NULL,
    -- The arguments as canonical text: with name, what makes two jobs the same job.
    args_key     TEXT NOT NULL,
    -- queued, running, postponed (waiting for GitHub's quota), succeeded or failed.
    status       TEXT NOT NULL,
    run_at       TEXT NOT NULL,
    -- Failed runs so far; a job fails for good after the configured number.
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- The worker holding the job, until when; a lease that runs out frees the job.
    locked_by    TEXT,
    locked_until TEXT,
    -- Steps done, so that a job taken up again goes on where it stopped.
    checkpoint   TEXT,
    progress     TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT
);
-- At most one pending job of a kind and arguments: enqueueing it again is a no-op.
CREATE UNIQUE INDEX jobs_pending_once ON jobs (name, args_key)
    WHERE status IN ('queued', 'running', 'postponed');
-- What a worker claims next, and what the jobs list shows first.
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_listing ON jobs (created_at DESC, id);
