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
                    let placeholder = clause.bind(SqlValue::Text(needle.clone()));
                    match self.pool() {
                        Pool::Sqlite(_) => format!("instr({column}, {placeholder}) > 0"),
                        Pool::Postgres(_) => format!("strpos({column}, {placeholder}) > 0"),
                    }
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
}
