-- Exact totals of the two big tables, kept by triggers, so that an unfiltered list page does
-- not count millions of rows. An upsert that updates fires no INSERT trigger.
CREATE TABLE row_counts (
    name TEXT PRIMARY KEY NOT NULL,
    n    INTEGER NOT NULL
);
INSERT INTO row_counts (name, n) SELECT 'developers', COUNT(*) FROM developers;
INSERT INTO row_counts (name, n) SELECT 'repositories', COUNT(*) FROM repositories;

CREATE TRIGGER developers_count_insert AFTER INSERT ON developers
BEGIN UPDATE row_counts SET n = n + 1 WHERE name = 'developers'; END;
CREATE TRIGGER developers_count_delete AFTER DELETE ON developers
BEGIN UPDATE row_counts SET n = n - 1 WHERE name = 'developers'; END;
CREATE TRIGGER repositories_count_insert AFTER INSERT ON repositories
BEGIN UPDATE row_counts SET n = n + 1 WHERE name = 'repositories'; END;
CREATE TRIGGER repositories_count_delete AFTER DELETE ON repositories
BEGIN UPDATE row_counts SET n = n - 1 WHERE name = 'repositories'; END;
