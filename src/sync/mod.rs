//! GitHub's answers turned into stored records and edges, one function per sync kind.
//! Each is idempotent, and resumable: list passes keep their place in the database.

mod convert;
mod lists;
mod steps;

pub use steps::Steps;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::edges::{self, Edge};
use crate::db::http_cache::{self, Cached};
use crate::db::rate_limits::{self, QuotaRecord};
use crate::db::records::{self, KnownDeveloper, KnownRepository, RepositoryMark};
use crate::db::sql::Sql;
use crate::db::{Db, Timestamp};
use crate::github::models::{Repository, User};
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
        let user = if steps.is_done("profile") {
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
        steps.complete("profile").await?;
        let subject = user.github_id;
        let user_path = |list: &str| format!("/users/{}/{list}", segment(&user.login));
        if user.public_repos.unwrap_or(1) > 0 && !steps.is_done("repositories") {
            let list = List {
                kind: Kind::Repositories,
                subject,
                path: user_path("repos"),
            };
            if !self.walk_or_mark_gone(&list, &user.login, steps).await? {
                return Ok(());
            }
        }
        steps.complete("repositories").await?;
        for repository in self.db.owned_repositories(subject).await? {
            let step = format!("stargazers:{}", repository.github_id);
            if !steps.is_done(&step) {
                self.sync_stargazers(&repository, steps).await?;
                steps.complete(&step).await?;
            }
        }
        for (kind, edge, count, path) in [
            (
                Kind::Followers,
                Edge::Followers,
                user.followers_count,
                "followers",
            ),
            (
                Kind::Following,
                Edge::Following,
                user.following_count,
                "following",
            ),
            (Kind::Starred, Edge::Starred, None, "starred"),
        ] {
            if steps.is_done(path) {
                continue;
            }
            // A count of zero from the profile is a complete answer: no request needed.
            if count == Some(0) {
                self.db
                    .run_in_transaction(&[edges::sweep(edge, subject, Timestamp::now())])
                    .await?;
            } else {
                let list = List {
                    kind,
                    subject,
                    path: user_path(path),
                };
                if !self.walk_or_mark_gone(&list, &user.login, steps).await? {
                    return Ok(());
                }
            }
            steps.complete(path).await?;
        }
        self.hydrate(subject, 0, steps).await
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
        if !steps.is_done("owner") {
            self.sync_user(&owner_login).await?;
            steps.complete("owner").await?;
        }
        if !steps.is_done("stargazers") {
            self.sync_stargazers(&repository, steps).await?;
            steps.complete("stargazers").await?;
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
                let gone = records::mark_developer_gone(login, Timestamp::now());
                self.db.run_in_transaction(&[gone]).await?;
                return Ok(None);
            }
        };
        let (user, raw) = decode::<User>(body)?;
        let login = user.login.clone();
        let now = Timestamp::now();
        let mut statements = self.quota_statements(now);
        statements.push(records::upsert_profile(&convert::profile(user, raw), now));
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
                self.db
                    .run_in_transaction(&[records::mark_repository(
                        &full_name,
                        mark,
                        Timestamp::now(),
                    )])
                    .await?;
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
        let (repository, raw) = decode::<Repository>(body)?;
        let (full_name, owner_login) =
            (repository.full_name.clone(), repository.owner.login.clone());
        let now = Timestamp::now();
        let mut statements = self.quota_statements(now);
        statements.extend(records::upsert_repositories(
            &[convert::repository(repository, raw, true)],
            now,
        ));
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
            let sweep = edges::sweep(Edge::Stargazers, repository.github_id, Timestamp::now());
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
                    let marked =
                        records::mark_repository(&repository.full_name, mark, Timestamp::now());
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
                self.db
                    .run_in_transaction(&[records::mark_developer_gone(login, Timestamp::now())])
                    .await?;
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
                let remember = http_cache::remember(url, &remembered, Timestamp::now());
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
        let forgotten = http_cache::remember(url, &Cached::default(), Timestamp::now());
        Ok(self.db.run_in_transaction(&[forgotten]).await?)
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
                rate_limits::store(&record, now)
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

/// A record's typed view and its raw JSON; a body that does not fit is a GitHub fault.
fn decode<T: serde::de::DeserializeOwned>(body: Value) -> Result<(T, Value), SyncError> {
    let typed = serde_json::from_value(body.clone()).map_err(|err| {
        SyncError::GitHub(GitHubError::Failed {
            cause: format!("GitHub answered an unexpected shape: {err}"),
        })
    })?;
    Ok((typed, body))
}
