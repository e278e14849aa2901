-- `?ordering=`: one index per orderable field, `field DESC NULLS LAST, id`. A descending
-- order reads it forwards and an ascending one (nulls first, ties by id descending)
-- backwards, so both directions, and range filters on the field, cost what page 1 costs.
-- Single-column indexes they make redundant go.
DROP INDEX developers_login;
DROP INDEX developers_updated_at;
DROP INDEX developers_followers_count;
CREATE INDEX developers_order_followers_count ON developers (followers_count DESC NULLS LAST, id);
CREATE INDEX developers_order_following_count ON developers (following_count DESC NULLS LAST, id);
CREATE INDEX developers_order_public_repos ON developers (public_repos DESC NULLS LAST, id);
CREATE INDEX developers_order_updated_at ON developers (updated_at DESC NULLS LAST, id);
CREATE INDEX developers_order_synced_at ON developers (synced_at DESC NULLS LAST, id);
CREATE INDEX developers_order_login ON developers (login DESC NULLS LAST, id);

DROP INDEX repositories_full_name;
DROP INDEX repositories_name;
DROP INDEX repositories_stargazers_count;
DROP INDEX repositories_updated_at;
CREATE INDEX repositories_order_stargazers_count ON repositories (stargazers_count DESC NULLS LAST, id);
CREATE INDEX repositories_order_watchers_count ON repositories (watchers_count DESC NULLS LAST, id);
CREATE INDEX repositories_order_updated_at ON repositories (updated_at DESC NULLS LAST, id);
CREATE INDEX repositories_order_name ON repositories (name DESC NULLS LAST, id);
CREATE INDEX repositories_order_full_name ON repositories (full_name DESC NULLS LAST, id);

-- `?search=` and `__contains`: trigram indexes answer `LIKE '%term%'` without a scan. The
-- search indexes are on the very text `db::filter::search_text` builds (a unit test holds
-- the two together).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX developers_search ON developers USING gin ((lower(coalesce(login, '') || ' ' || coalesce(name, '') || ' ' || coalesce(company, '') || ' ' || coalesce(location, '') || ' ' || coalesce(bio, ''))) gin_trgm_ops);
CREATE INDEX developers_location_trgm ON developers USING gin (location gin_trgm_ops);
CREATE INDEX repositories_search ON repositories USING gin ((lower(coalesce(full_name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(language, ''))) gin_trgm_ops);
