//! GitHub's answers turned into stored records and edges, one function per sync kind.
//! Each is idempotent, and resumable: list passes keep their place in the database.

mod convert;
mod lists;
mod steps;

pub use steps::{Step, Steps};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::developers::{KnownDeveloper, mark_gone_stmt, upsert_profiles_stmt};
use crate::db::edges::{Edge, sweep_stmt};
use crate::db::http_cache::{Cached, forget_stmt, remember_stmt};
use crate::db::rate_limits::{QuotaRecord, store_stmt};
use crate::db::repositories::{
    KnownRepository, RepositoryMark, mark_stmt, upsert_repositories_stmts,
};
use crate::db::sql::Sql;
use crate::db::{Db, Timestamp};
use crate::github::{Fetched, GitHub, GitHubError};
use convert::segment;
use lists::{Kind, List};

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
            GitHubError::Postpone { until } => Self::Postpone { until },
            other => Self::GitHub(other),
        }
    }
}

pub struct Syncer {
    db: Db,
    github: Arc<GitHub>,
}

impl Syncer {
    pub fn new(db: Db, github: Arc<GitHub>) -> Self {
        Self { db, github }
    }

    /// What GitHub last said is left of the core quota.
    pub fn quota_left(&self) -> Option<i64> {
        self.github
            .quotas()
            .into_iter()
            .find(|q| q.resource == "core")
            .map(|q| q.remaining)
    }

    /// The developer, their repositories (each with its stargazers), followers, following
    /// and starred repositories; then the profiles of every follower, followee and
    /// stargazer known only from those lists. Steps already in `steps` are skipped.
    pub async fn full_profile_sync(&self, login: &str, steps: &Steps) -> Result<(), SyncError> {
        let user = if steps.is_done(Step::Profile) {
            self.db.known_developer(login).await?
        } else {
            None
        };
        let user = match user {
            Some(user) => user,
            None => match self.sync_user(login).await? {
                Some(user) => user,
                None => return Ok(()),
            },
        };
        steps.complete(Step::Profile).await?;
        let subject = user.github_id;
        if !self
            .developer_list(&user, Kind::Repositories, user.public_repos, steps)
            .await?
        {
            return Ok(());
        }
        for repository in self.db.owned_repositories(subject).await? {
            let step = Step::StargazersOf(repository.github_id);
            if !steps.is_done(step) {
                self.sync_stargazers(&repository, steps).await?;
                steps.complete(step).await?;
            }
        }
        for (kind, count) in [
            (Kind::Followers, user.followers_count),
            (Kind::Following, user.following_count),
            (Kind::Starred, None),
        ] {
            if !self.developer_list(&user, kind, count, steps).await? {
                return Ok(());
            }
        }
        self.hydrate(subject, 0, steps).await
    }

    /// One of a developer's lists, as a step of a full profile sync; `count` is how many items
    /// the profile says it has. False when the developer turned out to be gone (then marked).
    async fn developer_list(
        &self,
        user: &KnownDeveloper,
        kind: Kind,
        count: Option<i64>,
        steps: &Steps,
    ) -> Result<bool, SyncError> {
        let Some((step, segment_name)) = kind.of_developer() else {
            return Ok(true);
        };
        if steps.is_done(step) {
            return Ok(true);
        }
        // A count of zero from the profile is a complete answer: no request needed.
        if count == Some(0) {
            if let Some(edge) = kind.edge() {
                let sweep = sweep_stmt(edge, user.github_id, Timestamp::now());
                self.db.run_in_transaction(&[sweep]).await?;
            }
        } else {
            let list = List {
                kind,
                subject: user.github_id,
                path: format!("/users/{}/{segment_name}", segment(&user.login)),
            };
            if !self.walk_or_mark_gone(&list, &user.login, steps).await? {
                return Ok(false);
            }
        }
        steps.complete(step).await?;
        Ok(true)
    }

    /// The repository, its owner's profile and its stargazers; then the stargazers' profiles.
    pub async fn full_repository_sync(
        &self,
        owner: &str,
        name: &str,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        let Some((repository, owner_login)) = self.sync_repository(owner, name).await? else {
            return Ok(());
        };
        if !steps.is_done(Step::Owner) {
            self.sync_user(&owner_login).await?;
            steps.complete(Step::Owner).await?;
        }
        if !steps.is_done(Step::Stargazers) {
            self.sync_stargazers(&repository, steps).await?;
            steps.complete(Step::Stargazers).await?;
        }
        self.hydrate(0, repository.github_id, steps).await
    }

    /// Fetches a developer's profile; `None` when GitHub no longer knows them (then marked).
    pub async fn sync_user(&self, login: &str) -> Result<Option<KnownDeveloper>, SyncError> {
        let url = self.github.url(&format!("/users/{}", segment(login)));
        let (body, remember) = match self.fetch_record(&url).await? {
            Answer::Fresh { body, remember } => (body, remember),
            Answer::Unchanged => return self.stored_or_refetch(login, &url).await,
            Answer::Refused(_) => {
                let gone = mark_gone_stmt(login, Timestamp::now());
                self.db.run_in_transaction(&[gone]).await?;
                return Ok(None);
            }
        };
        let record = convert::profile(body).map_err(unexpected_shape)?;
        let login = record.login.clone();
        let now = Timestamp::now();
        let mut statements = self.quota_statements(now);
        statements.extend(upsert_profiles_stmt(&[record], now));
        // The validator goes with the record: a 304 later must mean "what is stored is current".
        statements.push(remember);
        self.db.run_in_transaction(&statements).await?;
        Ok(self.db.known_developer(&login).await?)
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
                let marked = mark_stmt(&full_name, mark, Timestamp::now());
                self.db.run_in_transaction(&[marked]).await?;
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
        let mut statements = self.quota_statements(now);
        statements.extend(upsert_repositories_stmts(&[record], now));
        statements.push(remember);
        self.db.run_in_transaction(&statements).await?;
        Ok(self
            .db
            .known_repository(&full_name)
            .await?
            .map(|known| (known, owner_login)))
    }

    /// A repository's stargazers: none to fetch when GitHub counts none.
    async fn sync_stargazers(
        &self,
        repository: &KnownRepository,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        if repository.blocked_at.is_some() || repository.gone_at.is_some() {
            return Ok(());
        }
        if repository.stargazers_count == Some(0) {
            let sweep = sweep_stmt(Edge::Stargazers, repository.github_id, Timestamp::now());
            return Ok(self.db.run_in_transaction(&[sweep]).await?);
        }
        let (owner, name) = repository
            .full_name
            .split_once('/')
            .unwrap_or((&repository.full_name, ""));
        let list = List {
            kind: Kind::Stargazers,
            subject: repository.github_id,
            path: format!("/repos/{}/{}/stargazers", segment(owner), segment(name)),
        };
        match self.walk(&list, steps).await {
            Ok(()) => Ok(()),
            Err(err) => match record_answer(&err) {
                Some(mark) => {
                    let marked = mark_stmt(&repository.full_name, mark, Timestamp::now());
                    Ok(self.db.run_in_transaction(&[marked]).await?)
                }
                None => Err(err),
            },
        }
    }

    /// Profiles of the developers linked to `developer` or `repository` that are known only
    /// from lists: one GET each. A stored (or gone) profile leaves that list, so a resumed
    /// hydration goes on with those still missing, with no step to record.
    async fn hydrate(
        &self,
        developer: i64,
        repository: i64,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        for (_, login) in self.db.developers_to_hydrate(developer, repository).await? {
            self.sync_user(&login).await?;
            steps.page_stored(1);
        }
        Ok(())
    }

    /// Walks a developer's list; false when the developer turned out to be gone (then marked).
    async fn walk_or_mark_gone(
        &self,
        list: &List,
        login: &str,
        steps: &Steps,
    ) -> Result<bool, SyncError> {
        match self.walk(list, steps).await {
            Ok(()) => Ok(true),
            Err(err) if record_answer(&err).is_some() => {
                let gone = mark_gone_stmt(login, Timestamp::now());
                self.db.run_in_transaction(&[gone]).await?;
                Ok(false)
            }
            Err(err) => Err(err),
        }
    }

    /// GETs a single record, conditionally on the validator stored for `url`.
    async fn fetch_record(&self, url: &str) -> Result<Answer, SyncError> {
        let cached = self.db.cached(url).await?;
        let etag = cached.as_ref().and_then(|c| c.etag.as_deref());
        let fetched = self.github.get(url, etag, None).await;
        let answer = match fetched {
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
                return Ok(Answer::Fresh { body, remember });
            }
            Ok(Fetched::NotModified) => Ok(Answer::Unchanged),
            Err(GitHubError::Gone { .. }) => Ok(Answer::Refused(RepositoryMark::Gone)),
            Err(GitHubError::Blocked) => Ok(Answer::Refused(RepositoryMark::Blocked)),
            Err(err) => Err(err.into()),
        };
        self.db
            .run_in_transaction(&self.quota_statements(Timestamp::now()))
            .await?;
        answer
    }

    /// After a 304: the stored developer, or (when what is stored is no full profile) a
    /// fetch without the validator.
    async fn stored_or_refetch(
        &self,
        login: &str,
        url: &str,
    ) -> Result<Option<KnownDeveloper>, SyncError> {
        match self.db.known_developer(login).await? {
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

    /// The quotas GitHub reported, as statements to store with whatever else is written.
    fn quota_statements(&self, now: Timestamp) -> Vec<Sql> {
        self.github
            .quotas()
            .into_iter()
            .map(|q| {
                let record = QuotaRecord {
                    resource: q.resource,
                    limit: q.limit,
                    remaining: q.remaining,
                    reset: q.reset,
                };
                store_stmt(&record, now)
            })
            .collect()
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

/// What GitHub's refusal says of the record asked for: gone (404/410) or blocked (451).
fn record_answer(err: &SyncError) -> Option<RepositoryMark> {
    match err {
        SyncError::GitHub(GitHubError::Gone { .. }) => Some(RepositoryMark::Gone),
        SyncError::GitHub(GitHubError::Blocked) => Some(RepositoryMark::Blocked),
        _ => None,
    }
}

/// A record GitHub shaped unexpectedly: a fault on GitHub's side.
fn unexpected_shape(err: serde_json::Error) -> SyncError {
    SyncError::GitHub(GitHubError::failed(
        "GitHub answered an unexpected shape",
        err,
    ))
}
