-- Repositories GitHub says a credential administers or collaborates on (REST's
-- `permissions`, GraphQL's `viewerPermission`, above reading): GitHub serves their
-- stargazer lists to it while it restricts everyone else's, so a restriction learnt on
-- other repositories does not close theirs.
CREATE TABLE collaborations (
    credential           TEXT NOT NULL,
    repository_github_id INTEGER NOT NULL,
    PRIMARY KEY (credential, repository_github_id)
);
