//! The durable job queue: enqueue once, claim atomically, lease, and end each run as
//! succeeded, postponed, retried or failed.

use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};
use uuid::Uuid;

use super::listing::Listing;
use super::{Db, Pool, Timestamp};

/// Where a job stands. Stored as its text, which the queue's SQL also names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    /// Waiting for GitHub's quota to reset.
    Postponed,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Running,
        Self::Postponed,
        Self::Succeeded,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Postponed => "postponed",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Whether a run that ends so is over for good.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("unknown job status {text:?}"))
    }
}

impl Serialize for JobStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<DB: Database> Type<DB> for JobStatus
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for JobStatus
where
    String: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(String::decode(value)?.parse()?)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for JobStatus
where
    &'q str: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <&str as Encode<'q, DB>>::encode(self.as_str(), buf)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    pub id: Uuid,
    pub name: String,
    pub args: sqlx::types::Json<Value>,
    pub status: JobStatus,
    pub attempts: i64,
    pub run_at: Timestamp,
    pub checkpoint: Option<sqlx::types::Json<Value>>,
    pub progress: Option<sqlx::types::Json<Value>>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

pub const JOBS: Listing = Listing {
    table: "jobs",
    columns: &[&[
        "id",
        "name",
        "args",
        "status",
        "attempts",
        "run_at",
        "checkpoint",
        "progress",
        "last_error",
        "created_at",
        "started_at",
        "finished_at",
    ]],
    order_by: "created_at DESC, id",
    counted: false,
};

/// Whether `enqueue` added the job or found the same one pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    Added(Uuid),
    AlreadyPending(Uuid),
}

impl Enqueued {
    pub fn id(self) -> Uuid {
        match self {
            Self::Added(id) | Self::AlreadyPending(id) => id,
        }
    }
}

const ENQUEUE: &str = "INSERT INTO jobs (id, name, args, args_key, status, run_at, created_at) \
     VALUES ($1, $2, $3, $4, 'queued', $5, $5) \
     ON CONFLICT (name, args_key) WHERE status IN ('queued', 'running', 'postponed') DO NOTHING";

const PENDING: &str = "SELECT id FROM jobs WHERE name = $1 AND args_key = $2 \
     AND status IN ('queued', 'running', 'postponed')";

/// The next job due (or whose holder's lease ran out), taken in one statement.
const CLAIM_POSTGRES: &str = "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, \
         started_at = COALESCE(started_at, $3) \
     WHERE id = (SELECT id FROM jobs \
         WHERE (status IN ('queued', 'postponed') AND run_at <= $3) \
            OR (status = 'running' AND locked_until < $3) \
         ORDER BY run_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, name, args, status, attempts, run_at, checkpoint, progress, last_error, \
         created_at, started_at, finished_at";

/// SQLite has one writer at a time, so the same conditional UPDATE is atomic as it stands.
const CLAIM_SQLITE: &str = "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, \
         started_at = COALESCE(started_at, $3) \
     WHERE id = (SELECT id FROM jobs \
         WHERE (status IN ('queued', 'postponed') AND run_at <= $3) \
            OR (status = 'running' AND locked_until < $3) \
         ORDER BY run_at, created_at LIMIT 1) \
     RETURNING id, name, args, status, attempts, run_at, checkpoint, progress, last_error, \
         created_at, started_at, finished_at";

impl Db {
    /// Adds a job unless the same kind with the same arguments is queued, running or
    /// postponed already; either way, the id of the pending job.
    pub async fn enqueue(
        &self,
        name: &str,
        args: &Value,
        args_key: &str,
        run_at: Timestamp,
    ) -> sqlx::Result<Enqueued> {
        let id = Uuid::new_v4();
        let added = with_pool!(self, |pool| sqlx::query(ENQUEUE)
            .bind(id)
            .bind(name)
            .bind(sqlx::types::Json(args))
            .bind(args_key)
            .bind(run_at)
            .execute(pool)
            .await?
            .rows_affected());
        if added == 1 {
            return Ok(Enqueued::Added(id));
        }
        let pending: Option<Uuid> = with_pool!(self, |pool| sqlx::query_scalar(PENDING)
            .bind(name)
            .bind(args_key)
            .fetch_optional(pool)
            .await?);
        match pending {
            Some(id) => Ok(Enqueued::AlreadyPending(id)),
            // It ended between the two statements: this one is new work again.
            None => Box::pin(self.enqueue(name, args, args_key, run_at)).await,
        }
    }

    /// Takes the next due job for `worker` until `lease_until`, or nothing.
    pub async fn claim(
        &self,
        worker: &str,
        lease_until: Timestamp,
    ) -> sqlx::Result<Option<JobRow>> {
        let now = Timestamp::now();
        let sql = match self.pool() {
            Pool::Sqlite(_) => CLAIM_SQLITE,
            Pool::Postgres(_) => CLAIM_POSTGRES,
        };
        with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .fetch_optional(pool)
            .await)
    }

    /// Keeps `worker`'s hold on a running job; false when it lost it (taken up elsewhere).
    pub async fn extend_lease(
        &self,
        id: Uuid,
        worker: &str,
        until: Timestamp,
    ) -> sqlx::Result<bool> {
        let updated = with_pool!(self, |pool| {
            sqlx::query(
            "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND status = 'running'"
        )
        .bind(until)
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Saves `worker`'s progress on a job it still holds; a worker that lost the job to another
    /// (its lease ran out) changes nothing, so it cannot overwrite the new holder's steps.
    pub async fn save_job_state(
        &self,
        id: Uuid,
        worker: &str,
        state: &JobState,
    ) -> sqlx::Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET checkpoint = $1, progress = $2 WHERE id = $3 AND locked_by = $4"
        )
        .bind(sqlx::types::Json(&state.checkpoint))
        .bind(sqlx::types::Json(&state.progress))
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .map(|_| ()))
    }

    /// Ends `worker`'s run: `status` with `run_at`, the attempts and error to keep, the run's
    /// final `state` when it got far enough to have one (else the saved one stays), and the
    /// lease let go, all in one statement. A worker whose lease another has taken over changes
    /// nothing.
    pub async fn end_run(
        &self,
        id: Uuid,
        worker: &str,
        end: &RunEnd,
        state: Option<&JobState>,
    ) -> sqlx::Result<()> {
        let finished = end.status.is_final().then(Timestamp::now);
        let checkpoint = state.map(|s| sqlx::types::Json(&s.checkpoint));
        let progress = state.map(|s| sqlx::types::Json(&s.progress));
        with_pool!(self, |pool| sqlx::query(
            "UPDATE jobs SET status = $1, run_at = $2, attempts = $3, last_error = $4, \
             finished_at = $5, locked_by = NULL, locked_until = NULL, \
             checkpoint = COALESCE($8, checkpoint), progress = COALESCE($9, progress) \
             WHERE id = $6 AND locked_by = $7"
        )
        .bind(end.status)
        .bind(end.run_at)
        .bind(end.attempts)
        .bind(&end.last_error)
        .bind(finished)
        .bind(id)
        .bind(worker)
        .bind(checkpoint)
        .bind(progress)
        .execute(pool)
        .await
        .map(|_| ()))
    }

    /// Deletes the jobs that ended (succeeded or failed) before `before`; how many there were.
    pub async fn forget_jobs_ended_before(&self, before: Timestamp) -> sqlx::Result<u64> {
        with_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM jobs WHERE status IN ('succeeded', 'failed') AND finished_at < $1",
            )
            .bind(before)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
    }

    /// Heartbeats are proof of life, not history: a day's worth is kept.
    pub async fn forget_old_heartbeats(&self) -> sqlx::Result<()> {
        let day_ago = Timestamp(chrono::Utc::now() - chrono::Duration::days(1));
        with_pool!(self, |pool| {
            sqlx::query(
            "DELETE FROM jobs WHERE name = 'heartbeat' AND status = 'succeeded' AND finished_at < $1"
        )
        .bind(day_ago)
        .execute(pool)
        .await
        .map(|_| ())
        })
    }
}

/// How a run of a job ended.
#[derive(Clone, Debug)]
pub struct RunEnd {
    pub status: JobStatus,
    pub run_at: Timestamp,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// A job's saved state: the steps done (its checkpoint) and the progress the jobs API shows.
#[derive(Clone, Debug)]
pub struct JobState {
    pub checkpoint: Value,
    pub progress: Value,
}
