//! GitHub's answers turned into stored records and edges, one function per sync kind. Each is
//! idempotent, and resumable: list passes keep their place in the database. Lists and
//! profiles are read over REST or GraphQL, whichever costs less and has quota.

mod complete;
mod convert;
mod crawl;
mod hydrate;
mod ledger;
mod lists;
mod refresh;
mod restrictions;
mod star_history;
mod steps;

pub use crawl::Profiles;
pub use ledger::DbLedger;
pub use refresh::Due;
pub use steps::{Step, Steps};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::collaborations::collaborations_stmts;
use crate::db::developers::{KnownDeveloper, mark_gone_stmt, upsert_profiles_stmt};
use crate::db::http_cache::{Cached, forget_stmt, remember_stmt};
use crate::db::repositories::{
    KnownRepository, RepositoryMark, mark_stmts, upsert_repositories_stmts,
};
use crate::db::sql::Sql;
use crate::db::{Db, Key, Timestamp, is_unavailable};
use crate::github::{CORE, Cause, Fetched, GRAPHQL, GitHub, GitHubError};
use crate::metrics::Stored;
use convert::segment;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// GitHub's quota cannot afford the rest now; what is done is kept.
    #[error("GitHub's quota is spent until {until}")]
    Postpone { until: DateTime<Utc> },
    #[error(transparent)]
    GitHub(GitHubError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<GitHubError> for SyncError {
    fn from(err: GitHubError) -> Self {
        match err {
            GitHubError::Postpone { until, .. } => Self::Postpone { until },
            other => Self::GitHub(other),
        }
    }
}

impl SyncError {
    /// Whether the database being away is what stopped the sync (also when it was met while
    /// sharing GitHub's budget through it): no fault of the work, which waits for it.
    pub fn is_outage(&self) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(err) = source {
            // A shared cause is seen through: its own source skips the error it holds.
            let err = err.downcast_ref::<Cause>().map_or(err, |cause| {
                cause.as_ref() as &(dyn std::error::Error + 'static)
            });
            if let Some(err) = err.downcast_ref::<sqlx::Error>()
                && is_unavailable(err)
            {
                return true;
            }
            source = err.source();
        }
        false
    }
}

pub struct Syncer {
    db: Db,
    github: Arc<GitHub>,
    settings: SyncSettings,
}

/// The settings of the syncs.
#[derive(Clone, Copy, Debug)]
pub struct SyncSettings {
    /// How often a kind of list GitHub refuses is asked again, once.
    pub probe_every: std::time::Duration,
    /// Repositories with at least this many stars have GitHub's star history read.
    pub star_history_stars: i64,
}

impl Syncer {
    /// The GitHub client the syncs go through.
    pub fn github(&self) -> &GitHub {
        &self.github
    }

    pub fn new(db: Db, github: Arc<GitHub>, settings: SyncSettings) -> Self {
        Self {
            db,
            github,
            settings,
        }
    }

    /// What GitHub last said is left of each quota, by resource.
    pub fn quotas_left(&self) -> Vec<(String, i64)> {
        self.github
            .quotas()
            .into_iter()
            .map(|q| (q.resource, q.remaining))
            .collect()
    }

    /// Whether a quota the sync can spend affords more work now: REST's, or GraphQL's when
    /// it is used.
    pub fn has_quota(&self) -> bool {
        self.github.affords(CORE) || (self.github.graphql_enabled() && self.github.affords(GRAPHQL))
    }

    /// The developer, their repositories (each with its stargazers), followers, following
    /// and starred repositories; then the profiles of every follower, followee and
    /// stargazer known only from those lists. Steps already in `steps` are skipped.
    pub async fn full_profile_sync(&self, login: &str, steps: &Steps) -> Result<(), SyncError> {
        self.crawl(&[login.to_owned()], Profiles::Refresh, steps)
            .await
    }

    /// The repository and its star history, its owner's profile and its stargazers; then the
    /// stargazers' profiles.
    pub async fn full_repository_sync(
        &self,
        owner: &str,
        name: &str,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        let Some((repository, owner_login)) = self.sync_repository(owner, name).await? else {
            return Ok(());
        };
        self.sync_star_history(&repository).await?;
        if !steps.is_done(&Step::Owner) {
            self.sync_user(&owner_login).await?;
            steps.complete(Step::Owner).await?;
        }
        if let Some(pass) = self.stargazer_pass(&repository, steps).await? {
            self.run_passes(vec![pass], steps).await?;
        }
        self.hydrate(&[], &[repository.github_id], steps).await
    }

    /// The REST URL of a developer's profile.
    fn profile_url(&self, login: &str) -> String {
        self.github.url(&format!("/users/{}", segment(login)))
    }

    /// Fetches a developer's profile over REST; `None` when GitHub no longer knows them (then
    /// marked).
    pub async fn sync_user(&self, login: &str) -> Result<Option<KnownDeveloper>, SyncError> {
        let url = self.profile_url(login);
        let (body, remember) = match self.fetch_record(&url).await? {
            Answer::Fresh { body, remember } => (body, remember),
            Answer::Unchanged => return self.stored_or_refetch(login, &url).await,
            Answer::Refused(_) => {
                let gone = mark_gone_stmt(Key::Name(login), Timestamp::now());
                self.db.run_in_transaction(&[gone]).await?;
                return Ok(None);
            }
        };
        let record = convert::profile(body).map_err(unexpected_shape)?;
        let login = record.login.clone();
        let now = Timestamp::now();
        let mut statements: Vec<Sql> = upsert_profiles_stmt(&[record], now).into_iter().collect();
        // The validator goes with the record: a 304 later must mean "what is stored is current".
        statements.push(remember);
        self.db.run_in_transaction(&statements).await?;
        Stored {
            developers: 1,
            ..Stored::default()
        }
        .count();
        Ok(self.db.known_developer(Key::Name(&login)).await?)
    }

    /// Fetches a repository (and stores its owner as listed); `None` when it is gone or
    /// blocked (then marked). Returns the owner's login as GitHub now spells it.
    pub async fn sync_repository(
        &self,
        owner: &str,
        name: &str,
    ) -> Result<Option<(KnownRepository, String)>, SyncError> {
        let full_name = format!("{owner}/{name}");
        let url = self
            .github
            .url(&format!("/repos/{}/{}", segment(owner), segment(name)));
        let (body, remember) = match self.fetch_record(&url).await? {
            Answer::Fresh { body, remember } => (body, remember),
            Answer::Refused(mark) => {
                let marked = mark_stmts(Key::Name(&full_name), mark, Timestamp::now());
                self.db.run_in_transaction(&marked).await?;
                return Ok(None);
            }
            Answer::Unchanged => match self.db.known_repository(&full_name).await? {
                Some(known) if known.synced => return Ok(Some((known, owner.to_owned()))),
                _ => {
                    self.forget(&url).await?;
                    return Box::pin(self.sync_repository(owner, name)).await;
                }
            },
        };
        let record = convert::repository(body, true).map_err(unexpected_shape)?;
        let full_name = record.details.full_name.clone();
        let owner_login = record.owner.login.clone();
        let now = Timestamp::now();
        let records = [record];
        let mut statements = upsert_repositories_stmts(&records, now);
        statements.extend(collaborations_stmts(self.github.credential_id(), &records));
        statements.push(remember);
        self.db.run_in_transaction(&statements).await?;
        Stored {
            developers: 1,
            repositories: 1,
            edges: 0,
        }
        .count();
        Ok(self
            .db
            .known_repository(&full_name)
            .await?
            .map(|known| (known, owner_login)))
    }

    /// GETs a single record, conditionally on the validator stored for `url`.
    async fn fetch_record(&self, url: &str) -> Result<Answer, SyncError> {
        let cached = self.db.cached(url).await?;
        let etag = cached.as_ref().and_then(|c| c.etag.as_deref());
        match self.github.get(url, etag, None).await {
            Ok(Fetched::Fresh {
                body,
                etag,
                last_modified,
                ..
            }) => {
                let remembered = Cached {
                    etag,
                    last_modified,
                    ..Cached::default()
                };
                let remember = remember_stmt(url, &remembered, Timestamp::now());
                Ok(Answer::Fresh { body, remember })
            }
            Ok(Fetched::NotModified) => Ok(Answer::Unchanged),
            Err(GitHubError::Gone { .. }) => Ok(Answer::Refused(RepositoryMark::Gone)),
            Err(GitHubError::Blocked) => Ok(Answer::Refused(RepositoryMark::Blocked)),
            Err(err) => Err(err.into()),
        }
    }

    /// After a 304: the stored developer, or (when what is stored is no full profile) a
    /// fetch without the validator.
    async fn stored_or_refetch(
        &self,
        login: &str,
        url: &str,
    ) -> Result<Option<KnownDeveloper>, SyncError> {
        match self.db.known_developer(Key::Name(login)).await? {
            Some(known) if known.synced => Ok(Some(known)),
            _ => {
                self.forget(url).await?;
                Box::pin(self.sync_user(login)).await
            }
        }
    }

    /// Drops the validator of `url`, so that the next GET brings a body.
    async fn forget(&self, url: &str) -> Result<(), SyncError> {
        Ok(self.db.run_in_transaction(&[forget_stmt(url)]).await?)
    }
}

/// GitHub's answer to a GET of a single record.
enum Answer {
    /// A body, and the statement that stores its validators (with the record, not before).
    Fresh { body: Value, remember: Sql },
    /// 304: the stored copy is current.
    Unchanged,
    /// 404/410 or 451.
    Refused(RepositoryMark),
}

/// A record GitHub shaped unexpectedly: a fault on GitHub's side.
fn unexpected_shape(err: serde_json::Error) -> SyncError {
    SyncError::GitHub(GitHubError::failed(
        "GitHub answered an unexpected shape",
        err,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_met_through_the_shared_budget_is_an_outage() {
        let through_ledger = GitHubError::Failed {
            what: "the shared GitHub budget".into(),
            cause: Some(std::sync::Arc::new(sqlx::Error::PoolTimedOut)),
        };
        assert!(SyncError::from(through_ledger).is_outage());
        assert!(SyncError::Database(sqlx::Error::PoolTimedOut).is_outage());
        let github = GitHubError::failed_because("GitHub answered 500");
        assert!(!SyncError::from(github).is_outage());
        assert!(!SyncError::Database(sqlx::Error::RowNotFound).is_outage());
    }
}
