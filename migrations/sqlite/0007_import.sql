-- `gitomatic import django`: where an interrupted import goes on from (per source database
-- and step, the last key done, written with each batch), and the ids of imported records
-- merged into one we already had under the same GitHub id, so that edges and links given
-- with the imported id still find the record.

CREATE TABLE import_progress (
    source TEXT NOT NULL,
    step   TEXT NOT NULL,
    after  TEXT NOT NULL,
    PRIMARY KEY (source, step)
);

CREATE TABLE record_aliases (
    alias_id BLOB PRIMARY KEY NOT NULL,
    id       BLOB NOT NULL,
    -- developers or repositories
    kind     TEXT NOT NULL
);
