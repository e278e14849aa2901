//! Workers: claim a due job, keep its lease while it runs, and end the run as succeeded,
//! postponed until GitHub's quota resets, retried with backoff, or failed for good.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Task, execute};
use crate::config::Config;
use crate::db::jobs::{JobRow, JobState, JobStatus, RunEnd};
use crate::db::{Db, Timestamp, is_unavailable};
use crate::sync::{Steps, SyncError, Syncer};

/// A postponed job waits past the reset by up to this much, so that many do not all wake at once.
const POSTPONE_JITTER_SECONDS: i64 = 30;
const OUTAGE_REQUEUE_DELAY: Duration = Duration::from_secs(5);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// How long a developer queued by the top-up is not queued again: time for its crawl to run.
const CRAWL_QUEUED_FOR: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
pub struct WorkerSettings {
    pub lease: Duration,
    pub poll: Duration,
    pub max_attempts: i64,
    pub retry_base: Duration,
    pub discovery_batch: i64,
    /// Developers a top-up crawl takes; 0 turns the top-up off.
    pub crawl_batch: i64,
}

impl WorkerSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            lease: Duration::from_secs(config.job_lease_seconds),
            poll: Duration::from_millis(config.job_poll_ms),
            max_attempts: i64::from(config.job_max_attempts),
            retry_base: Duration::from_secs(config.job_retry_base_seconds),
            discovery_batch: i64::from(config.discovery_batch),
            crawl_batch: if config.discovery_top_up {
                i64::from(config.crawl_batch)
            } else {
                0
            },
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    db: Db,
    syncer: Arc<Syncer>,
    name: String,
    settings: WorkerSettings,
}

impl Worker {
    pub fn new(db: Db, syncer: Arc<Syncer>, name: String, settings: WorkerSettings) -> Self {
        Self {
            db,
            syncer,
            name,
            settings,
        }
    }

    /// Claims and runs jobs until `stop` is cancelled; a job running then is released with
    /// its steps kept, for any worker to take up.
    pub async fn run(&self, stop: CancellationToken) {
        tracing::info!(worker = %self.name, "worker started");
        while !stop.is_cancelled() {
            let idle = match self.run_next(&stop).await {
                Ok(true) => false,
                Ok(false) => !self.top_up().await,
                Err(err) => {
                    tracing::warn!(worker = %self.name, error = %err, "cannot reach the job queue");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tokio::time::sleep(self.settings.poll) => {}
                }
            }
        }
        tracing::info!(worker = %self.name, "worker stopped");
    }

    /// Runs due jobs until none is left, and says how many ran: the deterministic way to
    /// drive the queue (tests, and one-off runs).
    pub async fn run_until_idle(&self) -> sqlx::Result<usize> {
        let never = CancellationToken::new();
        let mut ran = 0;
        while self.run_next(&never).await? {
            ran += 1;
        }
        Ok(ran)
    }

    /// With nothing due and GitHub's quota unspent, queues a crawl of the next developers
    /// discovery would pick, so that the budget of each window is spent; true when it did.
    async fn top_up(&self) -> bool {
        if self.settings.crawl_batch == 0 || !self.syncer.has_quota() {
            return false;
        }
        let now = chrono::Utc::now();
        let since = Timestamp(now - CRAWL_QUEUED_FOR);
        let taken = self
            .db
            .take_crawl_candidates(self.settings.crawl_batch, since, Timestamp(now))
            .await;
        let usernames = match taken {
            Ok(usernames) if !usernames.is_empty() => usernames,
            Ok(_) => return false,
            Err(err) => {
                tracing::warn!(error = %err, "cannot pick developers to crawl");
                return false;
            }
        };
        let count = usernames.len();
        match (Task::Crawl { usernames }).enqueue(&self.db).await {
            Ok(enqueued) => {
                tracing::info!(job = %enqueued.id(), developers = count, "top-up: crawl queued");
                true
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot queue a crawl");
                false
            }
        }
    }

    async fn run_next(&self, stop: &CancellationToken) -> sqlx::Result<bool> {
        let lease_until = self.lease_from_now();
        let Some(job) = self.db.claim(&self.name, lease_until).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", id = %job.id, name = %job.name);
        self.run_job(job, stop).instrument(span).await?;
        Ok(true)
    }

    fn lease_from_now(&self) -> Timestamp {
        Timestamp(chrono::Utc::now() + self.settings.lease)
    }

    async fn run_job(&self, job: JobRow, stop: &CancellationToken) -> sqlx::Result<()> {
        let Some(task) = Task::from_stored(&job.name, &job.args.0) else {
            let end = RunEnd {
                status: JobStatus::Failed,
                run_at: job.run_at,
                attempts: job.attempts,
                last_error: Some(format!("unknown job kind {:?}", job.name)),
            };
            return self.end_run(job.id, &end, None, stop).await;
        };
        let done: Vec<String> = job
            .checkpoint
            .as_ref()
            .and_then(|c| serde_json::from_value(c.0.clone()).ok())
            .unwrap_or_default();
        let steps = Steps::for_job(self.db.clone(), job.id, &self.name, &done);
        let lost = CancellationToken::new();
        let keeper = tokio::spawn(self.clone().keep_lease(job.id, lost.clone()));
        tracing::info!("job started");
        let outcome = tokio::select! {
            result = execute(&task, &self.db, &self.syncer, self.settings.discovery_batch, &steps) => Some(result),
            () = stop.cancelled() => None,
            () = lost.cancelled() => {
                keeper.abort();
                tracing::warn!("lease lost: another worker has the job");
                return Ok(());
            }
        };
        let end = match outcome {
            Some(result) => self.run_end(&job, result),
            None => {
                tracing::info!("stopping: job released, its steps kept");
                RunEnd {
                    status: JobStatus::Queued,
                    run_at: Timestamp::now(),
                    attempts: job.attempts,
                    last_error: job.last_error.clone(),
                }
            }
        };
        let how = match end.status {
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Postponed => "postponed",
            _ if end.attempts > job.attempts => "retried",
            _ => "released",
        };
        crate::metrics::job_run(&job.name, how);
        // The lease is kept while the end waits out an outage, so that no other worker takes
        // the job up meanwhile.
        let ended = self.end_run(job.id, &end, Some(&steps.state()), stop).await;
        keeper.abort();
        ended
    }

    /// How a run that came to its end is recorded: done, failed (or retried), postponed to
    /// GitHub's reset, or queued again after a database outage.
    fn run_end(&self, job: &JobRow, result: Result<(), SyncError>) -> RunEnd {
        match result {
            Err(err) if err.is_outage() => {
                // No fault of the job: once the database answers again it is queued to run
                // shortly, its attempts untouched; a few seconds on, so that an error taken
                // for an outage by mistake cannot spin.
                let error = crate::error::chain(&err);
                tracing::warn!(%error, "the database went away: the job waits for it");
                RunEnd {
                    status: JobStatus::Queued,
                    run_at: Timestamp(chrono::Utc::now() + OUTAGE_REQUEUE_DELAY),
                    attempts: job.attempts,
                    last_error: job.last_error.clone(),
                }
            }
            Ok(()) => {
                tracing::info!("job succeeded");
                RunEnd {
                    status: JobStatus::Succeeded,
                    run_at: job.run_at,
                    attempts: job.attempts,
                    last_error: None,
                }
            }
            Err(SyncError::Postpone { until }) => {
                let jitter = fastrand::i64(0..POSTPONE_JITTER_SECONDS * 1000);
                let run_at = until + chrono::Duration::milliseconds(jitter);
                tracing::info!(%run_at, "GitHub's quota is spent: job postponed");
                RunEnd {
                    status: JobStatus::Postponed,
                    run_at: Timestamp(run_at),
                    attempts: job.attempts,
                    last_error: job.last_error.clone(),
                }
            }
            Err(err) => self.failed(job, &err),
        }
    }

    /// Ends the run, waiting out a database outage. Should this worker stop first, the end
    /// is given up: the lease runs out and another worker takes the job up from its last
    /// saved steps, as after a crash.
    async fn end_run(
        &self,
        id: uuid::Uuid,
        end: &RunEnd,
        state: Option<&JobState>,
        stop: &CancellationToken,
    ) -> sqlx::Result<()> {
        let mut warned = false;
        loop {
            match self.db.end_run(id, &self.name, end, state).await {
                Err(err) if is_unavailable(&err) => {
                    if !std::mem::replace(&mut warned, true) {
                        tracing::warn!(error = %err, "cannot end the run yet: the database is away");
                    }
                }
                done => return done,
            }
            tokio::select! {
                () = stop.cancelled() => {
                    tracing::info!("stopping: the run's end is left to the lease's expiry");
                    return Ok(());
                }
                () = tokio::time::sleep(self.settings.poll.max(Duration::from_millis(500))) => {}
            }
        }
    }

    /// Another try later, backing off; or, with the attempts used up, failed for good.
    fn failed(&self, job: &JobRow, err: &SyncError) -> RunEnd {
        let attempts = job.attempts + 1;
        let error = crate::error::chain(err);
        if attempts >= self.settings.max_attempts {
            tracing::error!(%error, attempts, "job failed for good");
            return RunEnd {
                status: JobStatus::Failed,
                run_at: job.run_at,
                attempts,
                last_error: Some(error),
            };
        }
        let exponent = u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(16);
        let delay = (self.settings.retry_base * 2u32.pow(exponent)).min(MAX_RETRY_DELAY);
        tracing::warn!(%error, attempts, retry_in = ?delay, "job failed; it will be retried");
        RunEnd {
            status: JobStatus::Queued,
            run_at: Timestamp(chrono::Utc::now() + delay),
            attempts,
            last_error: Some(error),
        }
    }

    /// Extends the lease while the job runs; cancels `lost` if another worker took the job.
    async fn keep_lease(self, id: uuid::Uuid, lost: CancellationToken) {
        let mut tick = tokio::time::interval(self.settings.lease / 3);
        tick.tick().await;
        loop {
            tick.tick().await;
            match self
                .db
                .extend_lease(id, &self.name, self.lease_from_now())
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    lost.cancel();
                    return;
                }
                Err(err) => tracing::warn!(error = %err, "cannot extend the lease; trying again"),
            }
        }
    }
}
