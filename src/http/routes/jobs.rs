//! `/github/jobs/` (ours): the durable jobs, newest first, and what each is doing.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::Timestamp;
use crate::db::jobs::{JOBS, JobRow, JobStatus};
use crate::db::listing::Listing;
use crate::error::ApiError;
use crate::http::embed::Embed;
use crate::http::filters::JOB_FILTERS;
use crate::http::pagination::Page;
use crate::http::path_id::PathId;
use crate::http::request::ApiRequest;
use crate::http::resource::{self, Collection, Resource};
use crate::state::AppState;

/// The durable jobs (ours).
pub static COLLECTION: Collection = Collection {
    path: "/github/jobs/",
    filters: JOB_FILTERS,
    orderings: &[],
    search: &[],
    relations: &[],
    links: false,
    embeds: false,
};

/// A job: one run of a task, kept durably until it succeeds or fails for good.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub url: String,
    /// The task kind: full_profile_sync, full_repository_sync, discovery_scraper, heartbeat.
    pub name: String,
    #[schema(value_type = Object)]
    pub args: Value,
    /// queued, running, postponed (waiting for GitHub's quota), succeeded or failed.
    #[schema(value_type = String)]
    pub status: JobStatus,
    /// Failed runs so far.
    pub attempts: i64,
    /// When the job is (or was) due.
    #[schema(value_type = String)]
    pub run_at: Timestamp,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Steps done, pages and records stored.
    #[schema(value_type = Option<Object>)]
    pub progress: Option<Value>,
}

impl Resource for Job {
    type Row = JobRow;
    const LISTING: &'static Listing = &JOBS;
    const COLLECTION: &'static Collection = &COLLECTION;

    async fn render(
        _state: &AppState,
        request: &ApiRequest,
        rows: Vec<JobRow>,
        _embed: Embed<'_>,
    ) -> Result<Vec<Self>, ApiError> {
        Ok(rows
            .into_iter()
            .map(|row| Job {
                id: row.id,
                url: request.record(&COLLECTION, row.id),
                name: row.name,
                args: row.args.0,
                status: row.status,
                attempts: row.attempts,
                run_at: row.run_at,
                created_at: row.created_at,
                started_at: row.started_at,
                finished_at: row.finished_at,
                last_error: row.last_error,
                progress: row.progress.map(|p| p.0),
            })
            .collect())
    }
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/github/jobs/", tag = "jobs", operation_id = "jobs_list",
    responses((status = 200, description = "A page of jobs", body = Page<Job>)))]
pub async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Json<Page<Job>>, ApiError> {
    resource::list(&state, &request, None).await
}

/// One job.
#[utoipa::path(get, path = "/github/jobs/{id}/", tag = "jobs", operation_id = "jobs_detail",
    params(("id" = Uuid, Path, description = "The job's id")),
    responses((status = 200, description = "The job", body = Job)))]
pub async fn detail(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Job>, ApiError> {
    resource::detail(&state, &request, resource::id_is(id)).await
}
