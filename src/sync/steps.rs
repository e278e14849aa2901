//! `Steps`: what a sync has done so far. A job's steps are saved as it goes, so that a job
//! taken up again (after a crash, a deploy or a postponement) skips what is done instead of
//! asking GitHub again; the counts feed progress reports.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use uuid::Uuid;

use super::lists::Kind;
use crate::db::Db;
use crate::db::jobs::JobState;

/// A part of a sync that is not done again once done. Saved as text: `profile:{login}`,
/// `owner`, `{list}:{subject's GitHub id}` (`followers:42`, `stargazers:1001`), and for a
/// list GitHub refuses the credential `{list}:{id}:restricted`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A developer's profile, by login in lower case.
    Profile(String),
    /// A repository's owner, in a repository sync.
    Owner,
    /// A complete pass over a list of a developer's or a repository's.
    List(Kind, i64),
    /// A list GitHub refuses the credential: done as far as it can be, nothing swept.
    Restricted(Kind, i64),
}

impl Step {
    pub fn profile(login: &str) -> Self {
        Self::Profile(login.to_ascii_lowercase())
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Profile(login) => write!(f, "profile:{login}"),
            Self::Owner => f.write_str("owner"),
            Self::List(kind, subject) => write!(f, "{}:{subject}", kind.name()),
            Self::Restricted(kind, subject) => write!(f, "{}:{subject}:restricted", kind.name()),
        }
    }
}

impl FromStr for Step {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "owner" {
            return Ok(Self::Owner);
        }
        let unknown = || format!("unknown step {text:?}");
        let (name, rest) = text.split_once(':').ok_or_else(unknown)?;
        if name == "profile" {
            return Ok(Self::Profile(rest.to_owned()));
        }
        let kind = Kind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(unknown)?;
        match rest.strip_suffix(":restricted") {
            Some(subject) => Ok(Self::Restricted(
                kind,
                subject.parse().map_err(|_| unknown())?,
            )),
            None => Ok(Self::List(kind, rest.parse().map_err(|_| unknown())?)),
        }
    }
}

#[derive(Default)]
pub struct Steps {
    done: Mutex<BTreeSet<Step>>,
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

    /// The steps of job `id`, run by `worker`, of which `done` were done before (steps it
    /// does not know, from another version, are done again).
    pub fn for_job(db: Db, id: Uuid, worker: &str, done: &[String]) -> Self {
        Self {
            done: Mutex::new(done.iter().filter_map(|step| step.parse().ok()).collect()),
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
        self.lock().iter().map(Step::to_string).collect()
    }

    /// Whether `step` is done; a list GitHub refused counts as done.
    pub fn is_done(&self, step: &Step) -> bool {
        let done = self.lock();
        done.contains(step)
            || matches!(step, Step::List(kind, subject)
                if done.contains(&Step::Restricted(*kind, *subject)))
    }

    /// How many lists GitHub refused.
    pub fn restricted(&self) -> usize {
        self.lock()
            .iter()
            .filter(|step| matches!(step, Step::Restricted(..)))
            .count()
    }

    /// Records `step` as done (saved, for a job) once its writes are committed.
    pub async fn complete(&self, step: Step) -> sqlx::Result<()> {
        self.complete_all(vec![step]).await
    }

    /// Records `steps` as done at once.
    pub async fn complete_all(&self, steps: Vec<Step>) -> sqlx::Result<()> {
        if steps.is_empty() {
            return Ok(());
        }
        self.lock().extend(steps);
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
        json!({
            "steps_done": self.lock().len(),
            "restricted": self.restricted(),
            "pages": self.pages(),
            "records": self.records(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<Step>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_back_from_their_text() {
        for step in [
            Step::profile("Octo-Cat"),
            Step::Owner,
            Step::List(Kind::Repositories, 7),
            Step::List(Kind::Followers, 7),
            Step::List(Kind::Stargazers, 1001),
            Step::Restricted(Kind::Stargazers, 1001),
        ] {
            assert_eq!(step.to_string().parse::<Step>(), Ok(step));
        }
        assert_eq!(Step::profile("Octo-Cat").to_string(), "profile:octo-cat");
        assert_eq!(Step::List(Kind::Stargazers, 7).to_string(), "stargazers:7");
        assert_eq!(
            Step::Restricted(Kind::Stargazers, 7).to_string(),
            "stargazers:7:restricted"
        );
        for bad in ["stargazers:x", "profile", "nope:1"] {
            assert!(bad.parse::<Step>().is_err(), "{bad}");
        }
    }
}
