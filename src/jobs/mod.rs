//! The work this service does in the background, as durable jobs: what each kind is, how it
//! runs, the workers that claim jobs and the scheduler that enqueues periodic ones.

mod background;
pub mod history;
pub mod scheduler;
pub mod worker;

pub use background::Background;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::jobs::Enqueued;
use crate::db::{Db, Timestamp};
use crate::sync::{Due, Profiles, Steps, SyncError, Syncer};

/// A kind of job and its arguments, stored as the job's `name` and its `args` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Task {
    FullProfileSync {
        username: String,
    },
    FullRepositorySync {
        username: String,
        repo_name: String,
    },
    DiscoveryScraper,
    Heartbeat,
    /// Full profile syncs of several developers at once (ours: what keeps the quota busy).
    Crawl {
        usernames: Vec<String>,
    },
    /// One stored record re-read now (ours): the developer `username`, or their repository
    /// `repo_name`.
    Refresh {
        username: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repo_name: Option<String>,
    },
    /// The records due for a re-check (ours, scheduled): up to `batch` of each kind synced
    /// more than `days` ago, oldest first, within `share_percent` of each REST window.
    RefreshDue {
        days: u32,
        batch: u32,
        share_percent: u32,
    },
}

impl Task {
    /// Every kind's name, as jobs store it.
    pub const NAMES: [&'static str; 7] = [
        "full_profile_sync",
        "full_repository_sync",
        "discovery_scraper",
        "heartbeat",
        "crawl",
        "refresh",
        "refresh_due",
    ];

    /// The job's name and its arguments, as stored.
    fn stored(&self) -> (String, Value) {
        let mut object = match serde_json::to_value(self) {
            Ok(Value::Object(object)) => object,
            _ => unreachable!("an internally tagged enum serializes to an object"),
        };
        let name = match object.remove("name") {
            Some(Value::String(name)) => name,
            _ => unreachable!("the tag is the variant's name"),
        };
        (name, Value::Object(object))
    }

    pub fn name(&self) -> String {
        self.stored().0
    }

    pub fn args(&self) -> Value {
        self.stored().1
    }

    pub fn from_stored(name: &str, args: &Value) -> Option<Self> {
        let mut object = args.as_object()?.clone();
        object.insert("name".to_owned(), Value::String(name.to_owned()));
        serde_json::from_value(Value::Object(object)).ok()
    }

    /// Queues the task now, unless the same one is pending.
    pub async fn enqueue(&self, db: &Db) -> sqlx::Result<Enqueued> {
        let (name, args) = self.stored();
        db.enqueue(&name, &args, &args_key(&args), Timestamp::now())
            .await
    }
}

/// What makes two jobs of a kind the same job. GitHub's names are case-insensitive, so
/// `Octocat` and `octocat` are one job.
fn args_key(args: &Value) -> String {
    args.to_string().to_lowercase()
}

/// A GitHub login: letters, digits and single hyphens, at most 39 characters.
pub fn valid_login(login: &str) -> bool {
    (1..=39).contains(&login.len())
        && !login.starts_with('-')
        && !login.ends_with('-')
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A repository name: letters, digits, `.`, `_` and `-`, at most 100 characters.
pub fn valid_repo_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Runs `task` to its end: the code the workers and `gitomatic sync` share.
pub async fn execute(
    task: &Task,
    db: &Db,
    syncer: &Syncer,
    discovery_batch: i64,
    steps: &Steps,
) -> Result<(), SyncError> {
    match task {
        Task::FullProfileSync { username } => syncer.full_profile_sync(username, steps).await,
        Task::FullRepositorySync {
            username,
            repo_name,
        } => {
            syncer
                .full_repository_sync(username, repo_name, steps)
                .await
        }
        Task::DiscoveryScraper => {
            for login in db.out_of_step_developers(discovery_batch).await? {
                let enqueued = Task::FullProfileSync { username: login }
                    .enqueue(db)
                    .await?;
                tracing::info!(job = %enqueued.id(), "discovery: full profile sync queued");
            }
            Ok(())
        }
        Task::Heartbeat => {
            tracing::info!("ping");
            Ok(db.forget_old_heartbeats().await?)
        }
        Task::Crawl { usernames } => syncer.crawl(usernames, Profiles::Missing, steps).await,
        Task::Refresh {
            username,
            repo_name: None,
        } => syncer.refresh_developer(username, steps).await,
        Task::Refresh {
            username,
            repo_name: Some(name),
        } => syncer.refresh_repository(username, name, steps).await,
        Task::RefreshDue {
            days,
            batch,
            share_percent,
        } => {
            let due = Due {
                days: *days,
                batch: *batch,
                share: f64::from(*share_percent) / 100.0,
            };
            syncer.refresh_due(&due).await
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_are_checked_as_github_makes_them() {
        assert!(valid_login("h3nnn4n") && valid_login("a-b") && valid_login(&"x".repeat(39)));
        for bad in ["", "-a", "a-", "a b", "a/b", "ä", &"x".repeat(40)] {
            assert!(!valid_login(bad), "{bad:?}");
        }
        assert!(valid_repo_name("garapa") && valid_repo_name("a.b_c-d"));
        for bad in ["", ".", "..", "a/b", "a b", &"x".repeat(101)] {
            assert!(!valid_repo_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn stored_tasks_read_back_and_case_does_not_make_a_new_job() {
        let task = Task::FullRepositorySync {
            username: "Octo".into(),
            repo_name: "Repo".into(),
        };
        assert_eq!(
            Task::from_stored(&task.name(), &task.args()),
            Some(task.clone())
        );
        let lower = Task::FullRepositorySync {
            username: "octo".into(),
            repo_name: "repo".into(),
        };
        assert_eq!(args_key(&task.args()), args_key(&lower.args()));
        assert_eq!(Task::from_stored("nope", &json!({})), None);
    }

    #[test]
    fn names_lists_every_kind() {
        let every = [
            Task::FullProfileSync {
                username: "a".into(),
            },
            Task::FullRepositorySync {
                username: "a".into(),
                repo_name: "b".into(),
            },
            Task::DiscoveryScraper,
            Task::Heartbeat,
            Task::Crawl { usernames: vec![] },
            Task::Refresh {
                username: "a".into(),
                repo_name: None,
            },
            Task::RefreshDue {
                days: 7,
                batch: 1,
                share_percent: 25,
            },
        ];
        let names: Vec<String> = every.iter().map(Task::name).collect();
        assert_eq!(names, Task::NAMES);
    }
}
