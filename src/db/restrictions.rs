//! Lists GitHub refuses to a credential: one row per credential and kind of list, from the
//! first refusal until a probe finds the list served again.

use super::sql::{Sql, SqlValue};
use super::{Db, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Restriction {
    /// The credential's id (never its secret), as the shared budget names it.
    pub credential: String,
    /// The kind of list: `stargazers`, `followers`, …
    pub list: String,
    /// What GitHub answered when it last refused, like `403: Resource not accessible by
    /// personal access token`.
    pub answer: String,
    #[schema(value_type = String)]
    pub since: Timestamp,
    /// When a list of this kind was last asked for: the refusal, or the latest probe.
    #[schema(value_type = String)]
    pub probed_at: Timestamp,
}

const COLUMNS: &str = "credential, list, answer, since, probed_at";

impl Db {
    /// Every restriction known, of every credential.
    pub async fn list_restrictions(&self) -> sqlx::Result<Vec<Restriction>> {
        let sql = format!("SELECT {COLUMNS} FROM list_restrictions ORDER BY credential, list");
        with_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)
    }

    pub async fn restriction(
        &self,
        credential: &str,
        list: &str,
    ) -> sqlx::Result<Option<Restriction>> {
        let sql =
            format!("SELECT {COLUMNS} FROM list_restrictions WHERE credential = $1 AND list = $2");
        with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(credential)
            .bind(list)
            .fetch_optional(pool)
            .await)
    }

    /// Takes the probe of a restricted list, due when the last was asked before `due`:
    /// `true` for the one caller (of every process) that is to ask GitHub.
    pub async fn claim_probe(
        &self,
        credential: &str,
        list: &str,
        due: Timestamp,
    ) -> sqlx::Result<bool> {
        let done = with_pool!(self, |pool| sqlx::query(
            "UPDATE list_restrictions SET probed_at = $1 \
             WHERE credential = $2 AND list = $3 AND probed_at <= $4"
        )
        .bind(Timestamp::now())
        .bind(credential)
        .bind(list)
        .bind(due)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }
}

/// Records that GitHub refused `list` to `credential` with `answer` at `now`; a restriction
/// already known keeps its start.
pub fn restrict_stmt(credential: &str, list: &str, answer: &str, now: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let values = [
        sql.bind(SqlValue::Text(credential.to_owned())),
        sql.bind(SqlValue::Text(list.to_owned())),
        sql.bind(SqlValue::Text(answer.to_owned())),
        sql.bind(SqlValue::Time(now)),
    ];
    sql.sql = format!(
        "INSERT INTO list_restrictions ({COLUMNS}) VALUES ({}, {}) \
         ON CONFLICT (credential, list) DO UPDATE SET answer = excluded.answer, \
         probed_at = excluded.probed_at",
        values.join(", "),
        values[3],
    );
    sql
}

/// GitHub serves `list` to `credential` again.
pub fn lift_stmt(credential: &str, list: &str) -> Sql {
    let mut sql = Sql::default();
    let (credential, list) = (
        sql.bind(SqlValue::Text(credential.to_owned())),
        sql.bind(SqlValue::Text(list.to_owned())),
    );
    sql.sql =
        format!("DELETE FROM list_restrictions WHERE credential = {credential} AND list = {list}");
    sql
}
