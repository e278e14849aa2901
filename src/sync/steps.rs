//! `Steps`: what a sync has done so far. A job's steps are saved as it goes, so that a job
//! taken up again (after a crash, a deploy or a postponement) skips what is done instead of
//! asking GitHub again; the counts feed progress reports.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use uuid::Uuid;

use crate::db::Db;
use crate::db::jobs::JobState;

#[derive(Default)]
pub struct Steps {
    done: Mutex<BTreeSet<String>>,
    pages: AtomicU64,
    records: AtomicU64,
    job: Option<JobRun>,
}

/// The job run whose steps these are: saved under the worker holding its lease.
struct JobRun {
    db: Db,
    id: Uuid,
    worker: String,
}

impl Steps {
    /// Steps that are not saved anywhere: a sync run once, start to end.
    pub fn new() -> Self {
        Self::default()
    }

    /// The steps of job `id`, run by `worker`, of which `done` were done before.
    pub fn for_job(db: Db, id: Uuid, worker: &str, done: Vec<String>) -> Self {
        Self {
            done: Mutex::new(done.into_iter().collect()),
            job: Some(JobRun {
                db,
                id,
                worker: worker.to_owned(),
            }),
            ..Self::default()
        }
    }

    /// The steps done, in a stable order: what a job's checkpoint holds.
    fn done(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    pub fn is_done(&self, step: &str) -> bool {
        self.lock().contains(step)
    }

    /// Records `step` as done (saved, for a job) once its writes are committed.
    pub async fn complete(&self, step: &str) -> sqlx::Result<()> {
        self.lock().insert(step.to_owned());
        match &self.job {
            Some(run) => {
                run.db
                    .save_job_state(run.id, &run.worker, &self.state())
                    .await
            }
            None => Ok(()),
        }
    }

    /// What a job's row keeps of these steps.
    pub fn state(&self) -> JobState {
        JobState {
            checkpoint: json!(self.done()),
            progress: self.progress(),
        }
    }

    /// A page of `records` items was stored.
    pub fn page_stored(&self, records: usize) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(records as u64, Ordering::Relaxed);
    }

    pub fn pages(&self) -> u64 {
        self.pages.load(Ordering::Relaxed)
    }

    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// What the jobs API shows of a running sync.
    pub fn progress(&self) -> serde_json::Value {
        json!({"steps_done": self.lock().len(), "pages": self.pages(), "records": self.records()})
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }
}
