//! How old the stored records are: each table's records by the age of their last sync
//! (under a day, a week, a month, older, never synced), counted in one pass over each table:
//! too dear to count at every scrape of a large store, so counted with the ten-minute record
//! samples (`db::figures`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::developers::{KNOWN_DEVELOPER, KnownDeveloper};
use super::sql::{Sql, SqlValue};
use super::{Db, Timestamp};

/// A table's records by the age of their last sync.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize, ToSchema)]
pub struct Ages {
    /// Synced within the last day.
    pub day: i64,
    /// Within the last week, but not the last day.
    pub week: i64,
    /// Within the last 30 days, but not the last week.
    pub month: i64,
    /// Synced longer ago.
    pub older: i64,
    /// Known only from lists: never synced.
    pub never: i64,
}

impl Ages {
    /// The buckets, by name, as the metric labels them.
    pub fn named(&self) -> [(&'static str, i64); 5] {
        [
            ("day", self.day),
            ("week", self.week),
            ("month", self.month),
            ("older", self.older),
            ("never", self.never),
        ]
    }
}

/// Both tables' records by the age of their last sync.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Freshness {
    pub developers: Ages,
    pub repositories: Ages,
}

impl Freshness {
    /// Each table, by name, with its ages.
    pub fn tables(&self) -> [(&'static str, &Ages); 2] {
        [
            ("developers", &self.developers),
            ("repositories", &self.repositories),
        ]
    }
}

impl Db {
    /// Up to `limit` developers last synced before `before`, oldest first (the `synced_at`
    /// index's order), but those GitHub no longer has.
    pub async fn due_developers(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<KnownDeveloper>> {
        let sql = format!(
            "{KNOWN_DEVELOPER} WHERE synced_at < $1 AND gone_at IS NULL ORDER BY synced_at LIMIT $2"
        );
        with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await)
    }

    /// The full names of up to `limit` repositories last synced before `before`, oldest
    /// first, but those gone or blocked.
    pub async fn due_repositories(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<String>> {
        with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT full_name FROM repositories WHERE synced_at < $1 AND gone_at IS NULL \
             AND blocked_at IS NULL ORDER BY synced_at LIMIT $2"
        )
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await)
    }

    /// Both tables' records by the age of their last sync at `now`.
    pub async fn freshness(&self, now: Timestamp) -> sqlx::Result<Freshness> {
        Ok(Freshness {
            developers: self.ages("developers", now).await?,
            repositories: self.ages("repositories", now).await?,
        })
    }

    /// `table`'s records (`developers` or `repositories`) by the age of their last sync at `now`.
    async fn ages(&self, table: &'static str, now: Timestamp) -> sqlx::Result<Ages> {
        let ago = |days: i64| Timestamp(now.0 - chrono::Duration::days(days));
        let sql = format!(
            "SELECT \
             COUNT(*) FILTER (WHERE synced_at >= $1) AS day, \
             COUNT(*) FILTER (WHERE synced_at < $1 AND synced_at >= $2) AS week, \
             COUNT(*) FILTER (WHERE synced_at < $2 AND synced_at >= $3) AS month, \
             COUNT(*) FILTER (WHERE synced_at < $3) AS older, \
             COUNT(*) FILTER (WHERE synced_at IS NULL) AS never \
             FROM {table}"
        );
        with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(ago(1))
            .bind(ago(7))
            .bind(ago(30))
            .fetch_one(pool)
            .await)
    }
}

/// The record of `table` (`developers` or `repositories`) with GitHub id `github_id` was checked against GitHub now: a 304
/// leaves its fields as they are, and says they are current.
pub fn checked_stmt(table: &'static str, github_id: i64) -> Sql {
    let mut sql = Sql::default();
    let (now, id) = (
        sql.bind(SqlValue::Time(Timestamp::now())),
        sql.bind(SqlValue::Int(github_id)),
    );
    sql.sql = format!("UPDATE {table} SET synced_at = {now} WHERE github_id = {id}");
    sql
}
