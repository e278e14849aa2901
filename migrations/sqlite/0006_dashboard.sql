-- The dashboard's history: the records known and complete, sampled every ten minutes by any
-- process's scheduler (one row a bucket however many run), and GitHub requests per hour,
-- each process adding what it sent. Both are kept as long as the job history.

CREATE TABLE record_samples (
    at                    TEXT PRIMARY KEY,
    developers            INTEGER NOT NULL,
    developers_complete   INTEGER NOT NULL,
    repositories          INTEGER NOT NULL,
    repositories_complete INTEGER NOT NULL
);

CREATE TABLE github_requests_hourly (
    hour     TEXT NOT NULL,
    resource TEXT NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (hour, resource)
);
