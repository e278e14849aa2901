-- `?ordering=`: one index per orderable field, `field DESC, id` (SQLite sorts nulls as the
-- smallest values, as the ordering asks). A descending order reads it forwards and an
-- ascending one (ties by id descending) backwards, so both directions, and range filters
-- on the field, cost what page 1 costs. Single-column indexes they make redundant go.
-- `?search=` scans: SQLite has no index for substrings of any case.
DROP INDEX developers_login;
DROP INDEX developers_updated_at;
DROP INDEX developers_followers_count;
CREATE INDEX developers_order_followers_count ON developers (followers_count DESC, id);
CREATE INDEX developers_order_following_count ON developers (following_count DESC, id);
CREATE INDEX developers_order_public_repos ON developers (public_repos DESC, id);
CREATE INDEX developers_order_updated_at ON developers (updated_at DESC, id);
CREATE INDEX developers_order_synced_at ON developers (synced_at DESC, id);
CREATE INDEX developers_order_login ON developers (login DESC, id);

DROP INDEX repositories_full_name;
DROP INDEX repositories_name;
DROP INDEX repositories_stargazers_count;
DROP INDEX repositories_updated_at;
CREATE INDEX repositories_order_stargazers_count ON repositories (stargazers_count DESC, id);
CREATE INDEX repositories_order_watchers_count ON repositories (watchers_count DESC, id);
CREATE INDEX repositories_order_updated_at ON repositories (updated_at DESC, id);
CREATE INDEX repositories_order_name ON repositories (name DESC, id);
CREATE INDEX repositories_order_full_name ON repositories (full_name DESC, id);
