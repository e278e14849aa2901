-- `?search=` and `__contains` on SQLite: FTS5 trigram indexes over the searched columns
-- (db::filter's SEARCH_INDEXES names the same columns), so a term is looked up instead of
-- every row scanned. The trigram tokenizer folds case and matches any substring of three
-- characters or more; shorter terms still scan. The rows are the tables' own (external
-- content), keyed by GitHub's id: SQLite's implicit rowid may change in a VACUUM.
CREATE VIRTUAL TABLE developers_search USING fts5 (
    login, name, company, location, bio,
    content = 'developers', content_rowid = 'github_id', tokenize = 'trigram'
);
INSERT INTO developers_search (developers_search) VALUES ('rebuild');

CREATE TRIGGER developers_search_insert AFTER INSERT ON developers BEGIN
    INSERT INTO developers_search (rowid, login, name, company, location, bio)
    VALUES (new.github_id, new.login, new.name, new.company, new.location, new.bio);
END;
CREATE TRIGGER developers_search_delete AFTER DELETE ON developers BEGIN
    INSERT INTO developers_search (developers_search, rowid, login, name, company, location, bio)
    VALUES ('delete', old.github_id, old.login, old.name, old.company, old.location, old.bio);
END;
-- Every sync's upsert sets these columns; only a change re-indexes the row.
CREATE TRIGGER developers_search_update AFTER UPDATE OF github_id, login, name, company, location, bio
ON developers
WHEN old.github_id IS NOT new.github_id OR old.login IS NOT new.login OR old.name IS NOT new.name
    OR old.company IS NOT new.company OR old.location IS NOT new.location OR old.bio IS NOT new.bio
BEGIN
    INSERT INTO developers_search (developers_search, rowid, login, name, company, location, bio)
    VALUES ('delete', old.github_id, old.login, old.name, old.company, old.location, old.bio);
    INSERT INTO developers_search (rowid, login, name, company, location, bio)
    VALUES (new.github_id, new.login, new.name, new.company, new.location, new.bio);
END;

CREATE VIRTUAL TABLE repositories_search USING fts5 (
    full_name, description, language,
    content = 'repositories', content_rowid = 'github_id', tokenize = 'trigram'
);
INSERT INTO repositories_search (repositories_search) VALUES ('rebuild');

CREATE TRIGGER repositories_search_insert AFTER INSERT ON repositories BEGIN
    INSERT INTO repositories_search (rowid, full_name, description, language)
    VALUES (new.github_id, new.full_name, new.description, new.language);
END;
CREATE TRIGGER repositories_search_delete AFTER DELETE ON repositories BEGIN
    INSERT INTO repositories_search (repositories_search, rowid, full_name, description, language)
    VALUES ('delete', old.github_id, old.full_name, old.description, old.language);
END;
CREATE TRIGGER repositories_search_update AFTER UPDATE OF github_id, full_name, description, language
ON repositories
WHEN old.github_id IS NOT new.github_id OR old.full_name IS NOT new.full_name
    OR old.description IS NOT new.description OR old.language IS NOT new.language
BEGIN
    INSERT INTO repositories_search (repositories_search, rowid, full_name, description, language)
    VALUES ('delete', old.github_id, old.full_name, old.description, old.language);
    INSERT INTO repositories_search (rowid, full_name, description, language)
    VALUES (new.github_id, new.full_name, new.description, new.language);
END;
