-- Lists GitHub refuses to a credential (stargazer lists, since GitHub restricted them to a
-- repository's admins and collaborators in 2026): while a row stands, the crawl asks no
-- more of that kind of list, but for one probe a day that notices a lifted restriction.
CREATE TABLE list_restrictions (
    credential  TEXT NOT NULL,
    list        TEXT NOT NULL,
    -- What GitHub answered, as "403: Resource not accessible by personal access token".
    answer      TEXT NOT NULL,
    since       TIMESTAMPTZ NOT NULL,
    probed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (credential, list)
);
