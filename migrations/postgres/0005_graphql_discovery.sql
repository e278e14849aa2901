-- GraphQL discovery: GitHub's node ids (what GraphQL names records by), lookups by login and
-- by full name that ignore case as GitHub does, and a credential's budget shared by every
-- process that uses it.

ALTER TABLE developers ADD COLUMN node_id TEXT;
ALTER TABLE repositories ADD COLUMN node_id TEXT;
-- Records fetched before carry their node id in the payload they were built from.
UPDATE developers SET node_id = raw ->> 'node_id' WHERE raw ? 'node_id';
UPDATE repositories SET node_id = raw ->> 'node_id' WHERE raw ? 'node_id';

-- When the crawl last queued this developer, so that two idle workers do not queue the same
-- developers twice.
ALTER TABLE developers ADD COLUMN queued_at TIMESTAMPTZ;

CREATE INDEX developers_login_lower ON developers (lower(login));
CREATE INDEX repositories_full_name_lower ON repositories (lower(full_name));

-- Which credential (an id, never the secret) reported each quota: a process reads only its
-- own credential's.
ALTER TABLE rate_limits ADD COLUMN credential TEXT;

-- The places of a credential's requests in flight to GitHub, across processes: a request
-- holds one until `until` (so a process that dies loses it).
CREATE TABLE github_slots (
    credential TEXT NOT NULL,
    slot       BIGINT NOT NULL,
    holder     TEXT,
    until      TIMESTAMPTZ,
    PRIMARY KEY (credential, slot)
);

-- A pause GitHub asked of a credential (a secondary limit), kept by every process using it.
CREATE TABLE github_pauses (
    credential   TEXT PRIMARY KEY NOT NULL,
    paused_until TIMESTAMPTZ NOT NULL
);
