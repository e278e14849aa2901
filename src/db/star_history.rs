//! GitHub's star history of a repository, by week: stored as GitHub gave it, and served
//! newest first with the running total at each week's end.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::columns::insert_rows;
use super::sql::{Sql, SqlValue};
use super::{Db, Timestamp};

/// The table of the star history's weeks.
pub const STAR_WEEKS: &str = "star_weeks";

/// A week of GitHub's star history: from its Sunday, 00:00 UTC, the stars given that week
/// that still stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StarWeek {
    pub week: Timestamp,
    pub stars: i64,
}

/// The weeks of the repository with GitHub id `github_id`, as GitHub gave them at `now`;
/// `whole` when they are its whole history, from which only the latest page is asked again.
pub fn star_weeks_stmts(
    github_id: i64,
    weeks: &[StarWeek],
    whole: bool,
    now: Timestamp,
) -> Vec<Sql> {
    let mut statements = Vec::new();
    if !weeks.is_empty() {
        let columns = ["repository_id", "week", "stars"];
        let mut sql = insert_rows("star_weeks", &columns, weeks, |sql, week| {
            let id = sql.bind(SqlValue::Int(github_id));
            vec![
                format!("(SELECT id FROM repositories WHERE github_id = {id})"),
                sql.bind(SqlValue::Time(week.week)),
                sql.bind(SqlValue::Int(week.stars)),
            ]
        });
        sql.push(" ON CONFLICT (repository_id, week) DO UPDATE SET stars = excluded.stars");
        statements.push(sql);
    }
    if whole {
        let mut sql = Sql::default();
        let (at, id) = (
            sql.bind(SqlValue::Time(now)),
            sql.bind(SqlValue::Int(github_id)),
        );
        sql.sql = format!("UPDATE repositories SET star_history_at = {at} WHERE github_id = {id}");
        statements.push(sql);
    }
    statements
}

/// A week of a repository's star history, as the API serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct StarHistoryWeek {
    /// The week's first day (a Sunday, UTC), `YYYY-MM-DD`.
    pub week: String,
    /// Stars given that week that still stand.
    pub stars: i64,
    /// Stars that stand at the week's end: this week's and every earlier one's.
    pub total: i64,
}

#[derive(sqlx::FromRow)]
struct WeekRow {
    week: Timestamp,
    stars: i64,
    total: i64,
}

impl Db {
    /// Up to `limit` weeks of the repository `id`, newest first from `offset`, each with the
    /// running total at its end.
    pub async fn star_weeks(
        &self,
        id: Uuid,
        limit: i64,
        offset: i64,
    ) -> sqlx::Result<Vec<StarHistoryWeek>> {
        let rows: Vec<WeekRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT week, stars, CAST(SUM(stars) OVER (ORDER BY week) AS BIGINT) AS total \
             FROM star_weeks WHERE repository_id = $1 ORDER BY week DESC LIMIT $2 OFFSET $3"
        )
        .bind(id)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|row| StarHistoryWeek {
                week: row.week.0.format("%Y-%m-%d").to_string(),
                stars: row.stars,
                total: row.total,
            })
            .collect())
    }
}
