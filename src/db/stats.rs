//! Figures about the whole store, for the metrics and the dashboard: read from the database,
//! so that every process sharing it reports the same.

use serde::Serialize;
use utoipa::ToSchema;

use super::rate_limits::QuotaRecord;
use super::{Db, Timestamp};

/// Jobs of one kind in one status.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct JobCount {
    pub name: String,
    pub status: String,
    pub count: i64,
}

impl Db {
    pub async fn job_counts(&self) -> sqlx::Result<Vec<JobCount>> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT name, status, COUNT(*) AS count FROM jobs GROUP BY name, status \
             ORDER BY name, status"
        )
        .fetch_all(pool)
        .await)
    }

    /// When the job that has waited longest to run became due: the queue's lag is now minus
    /// this. `None` when no job is due.
    pub async fn oldest_due(&self, now: Timestamp) -> sqlx::Result<Option<Timestamp>> {
        with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT MIN(run_at) FROM jobs WHERE status IN ('queued', 'postponed') AND run_at <= $1"
        )
        .bind(now)
        .fetch_one(pool)
        .await)
    }

    /// Every quota stored, whichever process stored it.
    pub async fn every_quota(&self) -> sqlx::Result<Vec<QuotaRecord>> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT COALESCE(credential, '') AS credential, resource, rate_limit AS \"limit\", \
             rate_remaining AS remaining, rate_reset_raw AS reset FROM rate_limits \
             WHERE rate_limit IS NOT NULL AND rate_remaining IS NOT NULL \
             AND rate_reset_raw IS NOT NULL ORDER BY id"
        )
        .fetch_all(pool)
        .await)
    }

    /// The kept totals of the record tables (`developers`, `repositories`).
    pub async fn record_totals(&self) -> sqlx::Result<Vec<(String, i64)>> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT name, n FROM row_counts ORDER BY name"
        )
        .fetch_all(pool)
        .await)
    }
}

/// The records known and complete (their own profile or repository fetched) at `at`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, Serialize, ToSchema)]
pub struct RecordSample {
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub developers: i64,
    pub developers_complete: i64,
    pub repositories: i64,
    pub repositories_complete: i64,
}

/// Requests sent to one GitHub resource in the hour from `hour`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, Serialize, ToSchema)]
pub struct HourlyRequests {
    #[schema(value_type = String)]
    pub hour: Timestamp,
    pub resource: String,
    pub requests: i64,
}

impl Db {
    /// The records as they stand: known from the kept totals, complete counted (the
    /// developers' through the `synced_at` index).
    pub async fn record_sample(&self, at: Timestamp) -> sqlx::Result<RecordSample> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT $1 AS at, \
             COALESCE((SELECT n FROM row_counts WHERE name = 'developers'), 0) AS developers, \
             (SELECT COUNT(*) FROM developers WHERE synced_at IS NOT NULL) AS developers_complete, \
             COALESCE((SELECT n FROM row_counts WHERE name = 'repositories'), 0) AS repositories, \
             (SELECT COUNT(*) FROM repositories WHERE synced_at IS NOT NULL) \
             AS repositories_complete"
        )
        .bind(at)
        .fetch_one(pool)
        .await)
    }

    /// Whether a sample of `bucket` is kept.
    pub async fn record_sampled(&self, bucket: Timestamp) -> sqlx::Result<bool> {
        with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM record_samples WHERE at = $1)"
        )
        .bind(bucket)
        .fetch_one(pool)
        .await)
    }

    /// Keeps `sample` as its bucket's, unless another process kept one first.
    pub async fn save_record_sample(&self, sample: &RecordSample) -> sqlx::Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO record_samples (at, developers, developers_complete, repositories, \
             repositories_complete) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (at) DO NOTHING"
        )
        .bind(sample.at)
        .bind(sample.developers)
        .bind(sample.developers_complete)
        .bind(sample.repositories)
        .bind(sample.repositories_complete)
        .execute(pool)
        .await
        .map(drop))
    }

    /// The samples kept since `since`, oldest first.
    pub async fn record_samples_since(&self, since: Timestamp) -> sqlx::Result<Vec<RecordSample>> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT at, developers, developers_complete, repositories, repositories_complete \
             FROM record_samples WHERE at >= $1 ORDER BY at"
        )
        .bind(since)
        .fetch_all(pool)
        .await)
    }

    /// Adds `requests` to those sent to `resource` in the hour from `hour`.
    pub async fn add_github_requests(
        &self,
        hour: Timestamp,
        resource: &str,
        requests: i64,
    ) -> sqlx::Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO github_requests_hourly (hour, resource, requests) VALUES ($1, $2, $3) \
             ON CONFLICT (hour, resource) DO UPDATE \
             SET requests = github_requests_hourly.requests + excluded.requests"
        )
        .bind(hour)
        .bind(resource)
        .bind(requests)
        .execute(pool)
        .await
        .map(drop))
    }

    /// Requests per hour and resource since `since`, oldest first.
    pub async fn github_requests_since(
        &self,
        since: Timestamp,
    ) -> sqlx::Result<Vec<HourlyRequests>> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT hour, resource, requests FROM github_requests_hourly WHERE hour >= $1 \
             ORDER BY hour, resource"
        )
        .bind(since)
        .fetch_all(pool)
        .await)
    }

    /// Forgets the history from before `before`.
    pub async fn forget_history_before(&self, before: Timestamp) -> sqlx::Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM record_samples WHERE at < $1")
                .bind(before)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM github_requests_hourly WHERE hour < $1")
                .bind(before)
                .execute(pool)
                .await
                .map(drop)
        })
    }
}
