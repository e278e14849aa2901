//! WHERE clauses built from whitelisted columns and bound values, never from request text.

use uuid::Uuid;

use super::{Db, Pool, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
    Time(Timestamp),
    Bool(bool),
    Id(Uuid),
}

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

/// A WHERE clause (possibly empty) and the values its `$N` placeholders stand for.
#[derive(Debug, Default)]
pub struct Where {
    pub sql: String,
    pub values: Vec<SqlValue>,
}

impl Db {
    pub fn where_clause(&self, conditions: &[Condition]) -> Where {
        let mut clause = Where::default();
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

impl Where {
    fn bind(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// The placeholder the next bound value will take.
    pub fn next_placeholder(&self, offset: usize) -> String {
        format!("${}", self.values.len() + offset + 1)
    }
}

/// Binds each `SqlValue` to a sqlx query or query_as, in order.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                $crate::db::filter::SqlValue::Int(v) => query.bind(*v),
                $crate::db::filter::SqlValue::Text(v) => query.bind(v.clone()),
                $crate::db::filter::SqlValue::Time(v) => query.bind(*v),
                $crate::db::filter::SqlValue::Bool(v) => query.bind(*v),
                $crate::db::filter::SqlValue::Id(v) => query.bind(*v),
            };
        }
        query
    }};
}
pub(crate) use bind_values;
