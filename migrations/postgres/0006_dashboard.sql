-- The dashboard's history: the records known and complete, sampled every ten minutes by any
-- process's scheduler (one row a bucket however many run), and GitHub requests per hour,
-- each process adding what it sent. Both are kept as long as the job history.

CREATE TABLE record_samples (
    at                    TIMESTAMPTZ PRIMARY KEY,
    developers            BIGINT NOT NULL,
    developers_complete   BIGINT NOT NULL,
    repositories          BIGINT NOT NULL,
    repositories_complete BIGINT NOT NULL
);

CREATE TABLE github_requests_hourly (
    hour     TIMESTAMPTZ NOT NULL,
    resource TEXT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (hour, resource)
);
