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
        statements.push(running_totals_stmt(Some(github_id)));
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

/// Each star week's running total (its stars and every later week's) and whether it is the
/// first of its history, for the repository with GitHub id `github_id` (every repository:
/// `None`, as a bulk load wants), writing only the weeks whose values moved: a star of this
/// week moves every week's total, one of an old week's unstarred only those up to it.
pub fn running_totals_stmt(github_id: Option<i64>) -> Sql {
    let mut sql = Sql::default();
    let (within, matched) = match github_id {
        Some(github_id) => {
            let id = sql.bind(SqlValue::Int(github_id));
            let repository = format!("(SELECT id FROM repositories WHERE github_id = {id})");
            (
                format!(" WHERE repository_id = {repository}"),
                format!(" AND star_weeks.repository_id = {repository}"),
            )
        }
        None => (String::new(), String::new()),
    };
    sql.sql = format!(
        "UPDATE star_weeks SET since_total = t.since_total, first_week = t.first_week FROM ( \
         SELECT repository_id, week, CAST(SUM(stars) OVER (PARTITION BY repository_id \
         ORDER BY week DESC) AS BIGINT) AS since_total, \
         ROW_NUMBER() OVER (PARTITION BY repository_id ORDER BY week) = 1 AS first_week \
         FROM star_weeks{within}) AS t \
         WHERE star_weeks.repository_id = t.repository_id AND star_weeks.week = t.week{matched} \
         AND (star_weeks.since_total <> t.since_total OR star_weeks.first_week <> t.first_week)"
    );
    sql
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
    /// The latest week stored of the repository with GitHub id `github_id`.
    pub async fn latest_star_week(&self, github_id: i64) -> sqlx::Result<Option<Timestamp>> {
        with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT MAX(w.week) FROM star_weeks w JOIN repositories r ON r.id = w.repository_id \
             WHERE r.github_id = $1"
        )
        .bind(github_id)
        .fetch_one(pool)
        .await)
    }

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
