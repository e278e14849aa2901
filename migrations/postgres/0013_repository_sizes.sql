-- Repository sizes (kilobytes, as GitHub reports them: REST's `size`, GraphQL's
-- `diskUsage`), what each developer's stored repositories take together, GitHub's own
-- total where GraphQL gave it (`totalDiskUsage`), and a row of history each time a
-- repository's size changes.
ALTER TABLE repositories ADD COLUMN size BIGINT;
ALTER TABLE developers ADD COLUMN repositories_size BIGINT;
ALTER TABLE developers ADD COLUMN github_repositories_size BIGINT;

CREATE INDEX repositories_order_size ON repositories (size DESC NULLS LAST, id);
-- "The largest repositories in Go": one language's, largest first.
CREATE INDEX repositories_language_size ON repositories (language, size DESC NULLS LAST, id);
CREATE INDEX developers_order_repositories_size ON developers (repositories_size DESC NULLS LAST, id);

CREATE TABLE repository_sizes (
    repository_id UUID NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    at            TIMESTAMPTZ NOT NULL,
    size          BIGINT NOT NULL,
    PRIMARY KEY (repository_id, at)
);

-- Validators stored before sizes were kept would answer 304 for pages whose sizes were never
-- read: forget those of repository pages and lists, so the next read of each is whole.
DELETE FROM http_cache WHERE url LIKE '%/repos%';
