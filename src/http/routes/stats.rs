//! `/github/stats/` (ours): how the crawl and GitHub's quotas are going, for scripts; the
//! dashboard shows the same figures.

use std::sync::atomic::AtomicUsize;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::jobs::Job;
use crate::db::figures::{Completeness, Space};
use crate::db::freshness::Freshness;
use crate::db::jobs::{JOBS, JobStatus};
use crate::db::restrictions::Restriction;
use crate::db::stats::{HourlyRequests, RecordSample};
use crate::db::{Db, Timestamp};
use crate::error::ApiError;
use crate::http::embed::Embed;
use crate::http::filters::{self, JOB_FILTERS};
use crate::http::params::Params;
use crate::http::request::ApiRequest;
use crate::http::resource::Resource;
use crate::state::AppState;

/// Jobs listed per status.
const LISTED: i64 = 10;
/// The records' history covers a week, in at most this many points.
const HISTORY_DAYS: i64 = 7;
const HISTORY_POINTS: usize = 300;
const REQUEST_HOURS: i64 = 48;

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    #[schema(value_type = String)]
    pub generated_at: Timestamp,
    /// Jobs of every kind, by status.
    pub jobs: JobTotals,
    /// The running jobs, the postponed ones (`run_at` is when each resumes) and the queued
    /// ones, newest first, ten of each at most.
    pub running: Vec<Job>,
    pub postponed: Vec<Job>,
    pub queued: Vec<Job>,
    /// The last ten jobs that failed for good, with their errors.
    pub failures: Vec<Job>,
    /// Each GitHub quota as last seen.
    pub quotas: Vec<QuotaGauge>,
    /// The kinds of list GitHub refuses a credential (stargazer lists, since GitHub
    /// restricted them to a repository's admins and collaborators): kept as stored, asked
    /// again once a probe interval.
    pub restrictions: Vec<Restriction>,
    pub records: Records,
    /// How old the records are: by the age of their last sync.
    pub freshness: Freshness,
    /// How complete the graph is: edges stored against GitHub's counts.
    pub completeness: Completeness,
    /// The stored repositories' kilobytes: in all, by language, by owner.
    pub space: Space,
    /// When `freshness`, `completeness` and `space` were counted: with the newest ten-minute sample,
    /// or now when none is kept yet.
    #[schema(value_type = String)]
    pub figures_at: Timestamp,
    /// The records known and complete over the last week, oldest first, ending now.
    pub history: Vec<RecordSample>,
    /// Requests sent to GitHub per hour and resource over the last two days, oldest first.
    pub github_requests: Vec<HourlyRequests>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct JobTotals {
    pub queued: i64,
    pub running: i64,
    pub postponed: i64,
    pub succeeded: i64,
    pub failed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaGauge {
    /// `core` (REST requests), `graphql` (points), …
    pub resource: String,
    pub limit: i64,
    pub remaining: i64,
    #[schema(value_type = String)]
    pub reset: Timestamp,
    /// 0 once the reset has passed.
    pub resets_in_seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Records {
    pub developers: Known,
    pub repositories: Known,
}

/// Records stored, and how many of them are complete: their own profile (or repository)
/// fetched, not only seen in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Known {
    pub known: i64,
    pub complete: i64,
}

/// How the crawl and the quotas are going: jobs, failures, quotas, records and their history.
#[utoipa::path(get, path = "/github/stats/", tag = "stats", operation_id = "stats",
    responses((status = 200, description = "The service's figures", body = Stats)))]
pub async fn stats(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Json<Stats>, ApiError> {
    Ok(Json(gather(&state, &request).await?))
}

/// The figures, read from the database that every process shares.
pub async fn gather(state: &AppState, request: &ApiRequest) -> Result<Stats, ApiError> {
    let db = &state.db;
    let now = Timestamp::now();
    let mut jobs = JobTotals::default();
    for count in db.job_counts().await? {
        let total = match count.status.parse() {
            Ok(JobStatus::Queued) => &mut jobs.queued,
            Ok(JobStatus::Running) => &mut jobs.running,
            Ok(JobStatus::Postponed) => &mut jobs.postponed,
            Ok(JobStatus::Succeeded) => &mut jobs.succeeded,
            Ok(JobStatus::Failed) => &mut jobs.failed,
            Err(_) => continue,
        };
        *total += count.count;
    }
    let quotas = db
        .every_quota()
        .await?
        .into_iter()
        .map(|quota| {
            let reset = chrono::DateTime::from_timestamp(quota.reset, 0).unwrap_or(now.0);
            QuotaGauge {
                resource: quota.resource,
                limit: quota.limit,
                remaining: quota.remaining,
                reset: Timestamp(reset),
                resets_in_seconds: (reset - now.0).num_seconds().max(0),
            }
        })
        .collect();
    let current = db.record_sample(now).await?;
    let records = Records {
        developers: Known {
            known: current.developers,
            complete: current.developers_complete,
        },
        repositories: Known {
            known: current.repositories,
            complete: current.repositories_complete,
        },
    };
    let figures = db.figures().await?;
    let since = Timestamp(now.0 - chrono::Duration::days(HISTORY_DAYS));
    let mut history = thinned(db.record_samples_since(since).await?, HISTORY_POINTS);
    history.push(current);
    let since = Timestamp(now.0 - chrono::Duration::hours(REQUEST_HOURS));
    Ok(Stats {
        generated_at: now,
        jobs,
        running: jobs_in(state, request, "running").await?,
        postponed: jobs_in(state, request, "postponed").await?,
        queued: jobs_in(state, request, "queued").await?,
        failures: jobs_in(state, request, "failed").await?,
        quotas,
        restrictions: db.list_restrictions().await?,
        records,
        freshness: figures.freshness,
        completeness: figures.completeness,
        space: figures.space,
        figures_at: figures.at,
        history,
        github_requests: db.github_requests_since(since).await?,
    })
}

/// The newest jobs in `status`, as `/github/jobs/?status=` lists them.
async fn jobs_in(
    state: &AppState,
    request: &ApiRequest,
    status: &str,
) -> Result<Vec<Job>, ApiError> {
    let params = Params::parse(Some(&format!("status={status}")));
    let conditions = filters::parse(JOB_FILTERS, &params)?;
    let db: &Db = &state.db;
    let rows = db
        .page(
            &JOBS,
            &db.where_clause(JOBS.table, &conditions),
            JOBS.order_by,
            LISTED,
            0,
        )
        .await?;
    let none = AtomicUsize::new(0);
    let embed = Embed::from_params(&Params::default(), &none)?;
    Job::render(state, request, rows, embed).await
}

/// At most `most` of `samples`, evenly spread, the last kept.
fn thinned<T>(samples: Vec<T>, most: usize) -> Vec<T> {
    let stride = samples.len().div_ceil(most.max(1)).max(1);
    let last = samples.len().saturating_sub(1);
    samples
        .into_iter()
        .enumerate()
        .filter(|(index, _)| (last - index) % stride == 0)
        .map(|(_, sample)| sample)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::thinned;

    #[test]
    fn thinning_spreads_the_points_and_keeps_the_last() {
        let points: Vec<usize> = (0..10).collect();
        assert_eq!(thinned(points.clone(), 20), points);
        assert_eq!(thinned(points.clone(), 5), [1, 3, 5, 7, 9]);
        assert_eq!(thinned(points, 3), [1, 5, 9]);
        assert_eq!(thinned(Vec::<usize>::new(), 3), Vec::<usize>::new());
    }
}
