//! Figures about the whole store, for the metrics and the dashboard: read from the database,
//! so that every process sharing it reports the same.

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
