-- GitHub's star history (GET /repos/{owner}/{repo}/stargazers/history): each repository's
-- stars by week (from its Sunday, 00:00 UTC) as GitHub counts those that still stand, and
-- when the whole history was last read (after that, only its latest page is asked).
CREATE TABLE star_weeks (
    repository_id UUID NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    week          TIMESTAMPTZ NOT NULL,
    stars         BIGINT NOT NULL,
    PRIMARY KEY (repository_id, week)
);

ALTER TABLE repositories ADD COLUMN star_history_at TIMESTAMPTZ;
