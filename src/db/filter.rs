//! WHERE clauses built from whitelisted columns and bound values, never from request text.

use uuid::Uuid;

use super::developers::DEVELOPER_SEARCH;
use super::repositories::REPOSITORY_SEARCH;
use super::sql::{Sql, SqlValue};
use super::{Db, Pool};

/// SQLite's full-text indexes (migration 0015), keyed by GitHub's id: the table each
/// serves, its name, and the columns it holds (`?search=`'s, which `__contains` filters on
/// some of them also use).
const SEARCH_INDEXES: &[(&str, &str, &[&str])] = &[
    ("developers", "developers_search", DEVELOPER_SEARCH),
    ("repositories", "repositories_search", REPOSITORY_SEARCH),
];

/// The trigram tokenizer indexes runs of three characters: a shorter term matches nothing.
const SHORTEST_INDEXED: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lte,
    Gte,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Compare {
        column: &'static str,
        cmp: Cmp,
        value: SqlValue,
    },
    IsNull {
        column: &'static str,
        is_null: bool,
    },
    /// Case-sensitive literal substring: `%` and `_` are not wildcards.
    Contains {
        column: &'static str,
        needle: String,
    },
    /// Case-insensitive substring of any of `columns` (`?search=`'s one term).
    Matches {
        columns: &'static [&'static str],
        term: String,
    },
    /// `id IN (subquery)`, where the subquery's one `{}` is the bound `of`.
    IdIn {
        subquery: &'static str,
        of: Uuid,
    },
}

/// How a clause asks SQLite's full-text indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lookup {
    /// Every match first, then the rows among them: what a count, and a term matching few
    /// rows, want.
    Collect,
    /// Row by row, in the order the page reads them: what a term matching many rows wants,
    /// for a page, which stops after its first rows.
    Probe,
}

impl Db {
    /// A WHERE clause (possibly empty) for `conditions` on `table`, with its bound values.
    pub fn where_clause(&self, table: &str, conditions: &[Condition]) -> Sql {
        self.clause(table, conditions, Lookup::Collect).0
    }

    /// `where_clause` with its full-text lookups asked row by row (same text elsewhere, same
    /// values): none where the clause has no lookup (PostgreSQL's have none).
    pub fn probing_clause(&self, table: &str, conditions: &[Condition]) -> Option<Sql> {
        if !matches!(self.pool(), Pool::Sqlite(_)) {
            return None;
        }
        let (clause, looked_up) = self.clause(table, conditions, Lookup::Probe);
        looked_up.then_some(clause)
    }

    /// The clause, and whether it looks anything up in a full-text index.
    fn clause(&self, table: &str, conditions: &[Condition], lookup: Lookup) -> (Sql, bool) {
        let (mut clause, mut looked_up) = (Sql::default(), false);
        for condition in conditions {
            clause.sql.push_str(if clause.sql.is_empty() {
                " WHERE "
            } else {
                " AND "
            });
            let sql = match condition {
                Condition::Compare { column, cmp, value } => {
                    let op = match cmp {
                        Cmp::Eq => "=",
                        Cmp::Lte => "<=",
                        Cmp::Gte => ">=",
                    };
                    format!("{column} {op} {}", clause.bind(value.clone()))
                }
                Condition::IsNull { column, is_null } => {
                    format!("{column} IS {}NULL", if *is_null { "" } else { "NOT " })
                }
                Condition::Contains { column, needle } => {
                    match self.indexed(table, Some(column), needle) {
                        // The index folds case: it finds the candidates, `instr` keeps the
                        // case-sensitive ones.
                        Some(index) => {
                            looked_up = true;
                            let found = index.bound(&mut clause, lookup);
                            let scan = self.contains(&mut clause, column, needle);
                            format!("{found} AND {scan}")
                        }
                        None => self.contains(&mut clause, column, needle),
                    }
                }
                Condition::Matches { columns, term } => match self.indexed(table, None, term) {
                    Some(index) => {
                        looked_up = true;
                        index.bound(&mut clause, lookup)
                    }
                    None => self.contains(&mut clause, &search_text(columns), &term.to_lowercase()),
                },
                Condition::IdIn { subquery, of } => {
                    let placeholder = clause.bind(SqlValue::Id(*of));
                    format!("id IN ({})", subquery.replace("{}", &placeholder))
                }
            };
            clause.sql.push_str(&sql);
        }
        (clause, looked_up)
    }

    /// The SQLite index lookup that finds `text` in `column` of `table` (any of its columns
    /// when none is named), where an index holds it and the text is long enough to be indexed.
    fn indexed(&self, table: &str, column: Option<&str>, text: &str) -> Option<IndexLookup> {
        if !matches!(self.pool(), Pool::Sqlite(_)) || text.chars().count() < SHORTEST_INDEXED {
            return None;
        }
        let &(table, index, _) = SEARCH_INDEXES.iter().find(|(indexed, _, columns)| {
            *indexed == table && column.is_none_or(|column| columns.contains(&column))
        })?;
        // One phrase (quotes doubled inside it): the trigram tokenizer makes it a substring.
        let phrase = format!("\"{}\"", text.replace('"', "\"\""));
        let query = match column {
            Some(column) => format!("{{{column}}} : {phrase}"),
            None => phrase,
        };
        Some(IndexLookup {
            table,
            index,
            query,
        })
    }

    /// `text` holds `needle` as it is. PostgreSQL asks it with `LIKE`, which its trigram
    /// indexes answer (the needle's wildcards escaped); SQLite compares with `instr`, over
    /// what its index found where one holds the column, else over every row.
    fn contains(&self, clause: &mut Sql, text: &str, needle: &str) -> String {
        match self.pool() {
            Pool::Sqlite(_) => {
                let placeholder = clause.bind(SqlValue::Text(needle.to_owned()));
                format!("instr({text}, {placeholder}) > 0")
            }
            Pool::Postgres(_) => {
                let escaped = needle
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let placeholder = clause.bind(SqlValue::Text(format!("%{escaped}%")));
                format!("{text} LIKE {placeholder}")
            }
        }
    }
}

/// A lookup in one of SQLite's full-text indexes: the rows where `query` matches.
struct IndexLookup {
    table: &'static str,
    index: &'static str,
    query: String,
}

impl IndexLookup {
    fn bound(self, clause: &mut Sql, lookup: Lookup) -> String {
        let placeholder = clause.bind(SqlValue::Text(self.query));
        let (table, index) = (self.table, self.index);
        match lookup {
            Lookup::Collect => format!(
                "{table}.github_id IN (SELECT rowid FROM {index} WHERE {index} MATCH {placeholder})"
            ),
            // FTS5 seeks each term's list to the one rowid rather than reading it whole.
            Lookup::Probe => format!(
                "EXISTS (SELECT 1 FROM {index} WHERE {index} MATCH {placeholder} \
                 AND rowid = {table}.github_id)"
            ),
        }
    }
}

/// The text `?search=` looks in: `columns` lower-cased, joined by spaces (a term holds
/// none, so it never matches across two). PostgreSQL's search indexes are on this very
/// expression.
pub fn search_text(columns: &[&str]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .map(|column| format!("coalesce({column}, '')"))
        .collect();
    format!("lower({})", parts.join(" || ' ' || "))
}

#[cfg(test)]
mod tests {
    use super::{SEARCH_INDEXES, search_text};
    use crate::db::developers::DEVELOPER_SEARCH;
    use crate::db::repositories::REPOSITORY_SEARCH;

    /// PostgreSQL uses an expression index only for the very expression it was built on.
    #[test]
    fn the_search_indexes_are_on_the_searched_text() {
        let migration = include_str!("../../migrations/postgres/0010_ordering_and_search.sql");
        let flat = migration.split_whitespace().collect::<Vec<_>>().join(" ");
        for columns in [DEVELOPER_SEARCH, REPOSITORY_SEARCH] {
            let text = search_text(columns);
            assert!(flat.contains(&format!("(({text}) gin_trgm_ops)")), "{text}");
        }
    }

    /// SQLite's lookups name the index and columns migration 0015 declared, and its
    /// triggers write each of them.
    #[test]
    fn the_sqlite_search_indexes_hold_the_searched_columns() {
        let migration = include_str!("../../migrations/sqlite/0015_search_index.sql");
        let flat = migration.split_whitespace().collect::<Vec<_>>().join(" ");
        for (table, index, columns) in SEARCH_INDEXES {
            let declared = format!(
                "CREATE VIRTUAL TABLE {index} USING fts5 ( {}, content = '{table}', \
                 content_rowid = 'github_id'",
                columns.join(", ")
            );
            assert!(flat.contains(&declared), "{declared}");
            let written = columns
                .iter()
                .map(|column| format!("new.{column}"))
                .collect::<Vec<_>>()
                .join(", ");
            assert!(
                flat.contains(&format!("VALUES (new.github_id, {written});")),
                "{index}"
            );
        }
    }
}
