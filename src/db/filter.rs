//! WHERE clauses built from whitelisted columns and bound values, never from request text.

use uuid::Uuid;

use super::sql::{Sql, SqlValue};
use super::{Db, Pool};

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

impl Db {
    /// A WHERE clause (possibly empty) for `conditions`, with its bound values.
    pub fn where_clause(&self, conditions: &[Condition]) -> Sql {
        let mut clause = Sql::default();
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
                    self.contains(&mut clause, column, needle)
                }
                Condition::Matches { columns, term } => {
                    self.contains(&mut clause, &search_text(columns), &term.to_lowercase())
                }
                Condition::IdIn { subquery, of } => {
                    let placeholder = clause.bind(SqlValue::Id(*of));
                    format!("id IN ({})", subquery.replace("{}", &placeholder))
                }
            };
            clause.sql.push_str(&sql);
        }
        clause
    }

    /// `text` holds `needle` as it is. PostgreSQL asks it with `LIKE`, which its trigram
    /// indexes answer (the needle's wildcards escaped); SQLite scans with `instr`.
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
    use super::search_text;
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
}
