//! SQL text built at run time with its bound values: placeholders are numbered as values
//! are bound, so no value is ever written into the text.

use serde_json::Value;
use uuid::Uuid;

use super::{Db, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
    Time(Timestamp),
    Bool(bool),
    Id(Uuid),
    Json(Value),
    /// A NULL of the column's type (PostgreSQL wants to know it).
    Null(Kind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Time,
    Bool,
    Json,
}

impl From<i64> for SqlValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<Uuid> for SqlValue {
    fn from(value: Uuid) -> Self {
        Self::Id(value)
    }
}

impl SqlValue {
    pub fn text(value: Option<&str>) -> Self {
        value.map_or(Self::Null(Kind::Text), |v| Self::Text(v.to_owned()))
    }

    pub fn int(value: Option<i64>) -> Self {
        value.map_or(Self::Null(Kind::Int), Self::Int)
    }

    pub fn time(value: Option<Timestamp>) -> Self {
        value.map_or(Self::Null(Kind::Time), Self::Time)
    }

    pub fn bool(value: Option<bool>) -> Self {
        value.map_or(Self::Null(Kind::Bool), Self::Bool)
    }
}

/// SQL text and the values its `$N` placeholders stand for: a statement to run, which does
/// nothing until it is.
#[must_use = "a statement does nothing until it is run"]
#[derive(Clone, Debug, Default)]
pub struct Sql {
    pub sql: String,
    pub values: Vec<SqlValue>,
}

impl Sql {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    /// Binds `value` and returns its placeholder, for the caller to write where it belongs.
    pub fn bind(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// The placeholder the value bound `offset` places after the current ones will take.
    pub fn next_placeholder(&self, offset: usize) -> String {
        format!("${}", self.values.len() + offset + 1)
    }
}

/// Binds each `SqlValue` to a sqlx query or query_as, in order.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            use $crate::db::sql::{Kind, SqlValue};
            query = match value {
                SqlValue::Int(v) => query.bind(*v),
                SqlValue::Text(v) => query.bind(v.clone()),
                SqlValue::Time(v) => query.bind(*v),
                SqlValue::Bool(v) => query.bind(*v),
                SqlValue::Id(v) => query.bind(*v),
                SqlValue::Json(v) => query.bind(sqlx::types::Json(v.clone())),
                SqlValue::Null(Kind::Int) => query.bind(None::<i64>),
                SqlValue::Null(Kind::Text) => query.bind(None::<String>),
                SqlValue::Null(Kind::Time) => query.bind(None::<$crate::db::Timestamp>),
                SqlValue::Null(Kind::Bool) => query.bind(None::<bool>),
                SqlValue::Null(Kind::Json) => {
                    query.bind(None::<sqlx::types::Json<serde_json::Value>>)
                }
            };
        }
        query
    }};
}
pub(crate) use bind_values;

/// Tries of a transaction that lost to another (a deadlock, a serialization failure, a busy
/// SQLite database) before its error is the caller's.
const TRIES: u32 = 3;

impl Db {
    /// Runs `statements` in order in one transaction: all of them happen, or none. A
    /// transaction the database aborted because another one held what it needed is run again.
    pub async fn run_in_transaction(&self, statements: &[Sql]) -> sqlx::Result<()> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.transaction_once(statements).await {
                Err(err) if tries < TRIES && lost_to_another(&err) => {
                    tracing::debug!(error = %err, "a transaction lost to another: running it again");
                    let pause = std::time::Duration::from_millis(10 + fastrand::u64(..40));
                    tokio::time::sleep(pause).await;
                }
                done => return done,
            }
        }
    }

    async fn transaction_once(&self, statements: &[Sql]) -> sqlx::Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for statement in statements {
                bind_values!(sqlx::query(&statement.sql), &statement.values)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })
    }
}

/// Whether the database aborted a transaction for another's sake: PostgreSQL's deadlock
/// (40P01) and serialization failure (40001), SQLite's busy and locked (5, 6, and extended).
fn lost_to_another(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    db.code()
        .is_some_and(|code| matches!(code.as_ref(), "40P01" | "40001" | "5" | "6" | "517" | "261"))
}
