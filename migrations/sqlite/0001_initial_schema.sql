-- The data the /github/ API serves. GitHub ids are identity (logins and names change);
-- our own ids are UUIDs as in the original API. Timestamps are bound from Rust as fixed-width
-- UTC text (see src/db/timestamp.rs), so text order is time order. UUIDs are 16-byte blobs.

CREATE TABLE developers (
    id              BLOB PRIMARY KEY NOT NULL,
    github_id       INTEGER NOT NULL UNIQUE,
    login           TEXT NOT NULL,
    name            TEXT,
    location        TEXT,
    bio             TEXT,
    company         TEXT,
    email           TEXT,
    created_at      TEXT,
    updated_at      TEXT,
    followers_count INTEGER,
    following_count INTEGER,
    public_gists    INTEGER,
    public_repos    INTEGER,
    -- The GitHub payload this record was last built from, as the original kept it.
    raw             TEXT,
    -- Null while the developer is known only from someone else's list.
    synced_at       TEXT,
    inserted_at     TEXT NOT NULL
);
CREATE INDEX developers_listing ON developers (created_at DESC, id);
CREATE INDEX developers_login ON developers (login);
CREATE INDEX developers_updated_at ON developers (updated_at);
CREATE INDEX developers_followers_count ON developers (followers_count);
CREATE INDEX developers_synced_at ON developers (synced_at);

CREATE TABLE repositories (
    id                BLOB PRIMARY KEY NOT NULL,
    github_id         INTEGER NOT NULL UNIQUE,
    -- Null until the owner is stored; owner_github_id is always known from GitHub.
    owner_id          BLOB REFERENCES developers (id) ON DELETE SET NULL,
    owner_github_id   INTEGER NOT NULL,
    name              TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    description       TEXT,
    homepage          TEXT,
    language          TEXT,
    created_at        TEXT,
    updated_at        TEXT,
    has_downloads     BOOLEAN,
    has_issues        BOOLEAN,
    has_pages         BOOLEAN,
    has_projects      BOOLEAN,
    has_wiki          BOOLEAN,
    private           BOOLEAN,
    archived          BOOLEAN,
    disabled          BOOLEAN,
    stargazers_count  INTEGER,
    subscribers_count INTEGER,
    watchers_count    INTEGER,
    open_issues_count INTEGER,
    raw               TEXT,
    synced_at         TEXT,
    inserted_at       TEXT NOT NULL
);
CREATE INDEX repositories_listing ON repositories (created_at DESC, id);
CREATE INDEX repositories_owner ON repositories (owner_id);
CREATE INDEX repositories_owner_github_id ON repositories (owner_github_id);
CREATE INDEX repositories_full_name ON repositories (full_name);
CREATE INDEX repositories_name ON repositories (name);
CREATE INDEX repositories_language ON repositories (language);
CREATE INDEX repositories_stargazers_count ON repositories (stargazers_count);
CREATE INDEX repositories_updated_at ON repositories (updated_at);

-- "follower follows followee", stored once; the primary key serves "following",
-- the second index serves "followers".
CREATE TABLE follows (
    follower_id BLOB NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    followee_id BLOB NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    PRIMARY KEY (follower_id, followee_id)
) WITHOUT ROWID;
CREATE INDEX follows_followee ON follows (followee_id, follower_id);

-- "developer starred repository", stored once; serves starred_repositories and stargazers.
CREATE TABLE stars (
    developer_id  BLOB NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    repository_id BLOB NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    starred_at    TEXT,
    PRIMARY KEY (developer_id, repository_id)
) WITHOUT ROWID;
CREATE INDEX stars_repository ON stars (repository_id, developer_id);

-- One row per GitHub rate-limit resource. The core quota is id 1 (the original's contract);
-- other resources take ids from 2 on (the sequence starts at 1, so AUTOINCREMENT hands out 2 first).
CREATE TABLE rate_limits (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    resource       TEXT NOT NULL UNIQUE,
    rate_limit     INTEGER,
    rate_remaining INTEGER,
    rate_reset_raw INTEGER,
    rate_reset     TEXT,
    updated_at     TEXT NOT NULL
);
INSERT INTO sqlite_sequence (name, seq) VALUES ('rate_limits', 1);

CREATE TABLE api_users (
    id            BLOB PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    -- argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
