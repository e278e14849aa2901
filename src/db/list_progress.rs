//! Where an interrupted list pass stands, so that it resumes instead of starting over.

use super::sql::{Sql, SqlValue};
use super::{Db, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    pub next_url: String,
    pub pass_started: Timestamp,
}

impl Db {
    pub async fn list_progress(&self, list: &str, subject: i64) -> sqlx::Result<Option<Progress>> {
        with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT next_url, pass_started FROM list_progress WHERE list = $1 AND subject_github_id = $2"
        )
        .bind(list)
        .bind(subject)
        .fetch_optional(pool)
        .await
        })
    }
}

/// Records that the pass over `list` of `subject` goes on at `progress.next_url`.
pub fn save_stmt(list: &str, subject: i64, progress: &Progress) -> Sql {
    let mut sql = Sql::default();
    let values = [
        sql.bind(SqlValue::Text(list.to_owned())),
        sql.bind(SqlValue::Int(subject)),
        sql.bind(SqlValue::Text(progress.next_url.clone())),
        sql.bind(SqlValue::Time(progress.pass_started)),
    ];
    sql.sql = format!(
        "INSERT INTO list_progress (list, subject_github_id, next_url, pass_started) VALUES ({}) \
         ON CONFLICT (list, subject_github_id) DO UPDATE SET next_url = excluded.next_url, \
         pass_started = excluded.pass_started",
        values.join(", ")
    );
    sql
}

/// The pass over `list` of `subject` is over.
pub fn clear_stmt(list: &str, subject: i64) -> Sql {
    let mut sql = Sql::default();
    let (list, subject) = (
        sql.bind(SqlValue::Text(list.to_owned())),
        sql.bind(SqlValue::Int(subject)),
    );
    sql.sql =
        format!("DELETE FROM list_progress WHERE list = {list} AND subject_github_id = {subject}");
    sql
}
