-- Exact totals of the two big tables, kept by triggers, so that an unfiltered list page does
-- not count millions of rows. Statement-level triggers see each statement's inserted or
-- deleted rows at once (an upsert's INSERT transition table holds only the rows it inserted),
-- so a page of 100 upserts changes a total once.
CREATE TABLE row_counts (
    name TEXT PRIMARY KEY NOT NULL,
    n    BIGINT NOT NULL
);
INSERT INTO row_counts (name, n) SELECT 'developers', COUNT(*) FROM developers;
INSERT INTO row_counts (name, n) SELECT 'repositories', COUNT(*) FROM repositories;

CREATE FUNCTION row_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT COUNT(*) INTO changed FROM inserted;
    ELSE
        SELECT -COUNT(*) INTO changed FROM deleted;
    END IF;
    -- Upserts that only update add nothing: leave the row (and its lock) alone.
    IF changed <> 0 THEN
        UPDATE row_counts SET n = n + changed WHERE name = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER developers_count_insert AFTER INSERT ON developers
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add();
CREATE TRIGGER developers_count_delete AFTER DELETE ON developers
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add();
CREATE TRIGGER repositories_count_insert AFTER INSERT ON repositories
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add();
CREATE TRIGGER repositories_count_delete AFTER DELETE ON repositories
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION row_counts_add();
