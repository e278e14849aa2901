//! GitHub's answers turned into stored records and edges, one function per sync kind.
//! Each is idempotent, and resumable: list passes keep their place in the database.

mod convert;
mod lists;

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

    /// The developer, their repositories (each with its stargazers), followers, following
    /// and starred repositories; then the profiles of every follower, followee and
    /// stargazer known only from those lists.
    pub async fn full_profile_sync(&self, login: &str) -> Result<(), SyncError> {
        let Some(user) = self.sync_user(login).await? else {
            return Ok(());
        };
        let subject = user.github_id;
        let user_path = |list: &str| format!("/users/{}/{list}", segment(&user.login));
        if user.public_repos.unwrap_or(1) > 0 {
            let list = List {
                kind: Kind::Repositories,
                subject,
                path: user_path("repos"),
            };
            if !self.walk_or_mark_gone(&list, &user.login).await? {
                return Ok(());
            }
        }
        for repository in self.db.owned_repositories(subject).await? {
            self.sync_stargazers(&repository).await?;
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
        ] {
            // A count of zero from the profile is a complete answer: no request needed.
            if count == Some(0) {
                self.db
                    .run_in_transaction(&[edges::sweep(edge, subject, Timestamp::now())])
                    .await?;
                continue;
            }
            let list = List {
                kind,
                subject,
                path: user_path(path),
            };
            if !self.walk_or_mark_gone(&list, &user.login).await? {
                return Ok(());
            }
        }
        let starred = List {
            kind: Kind::Starred,
            subject,
            path: user_path("starred"),
        };
        if !self.walk_or_mark_gone(&starred, &user.login).await? {
            return Ok(());
        }
        self.hydrate(subject, 0).await
    }

    /// The repository, its owner's profile and its stargazers; then the stargazers' profiles.
    pub async fn full_repository_sync(&self, owner: &str, name: &str) -> Result<(), SyncError> {
        let Some((repository, owner_login)) = self.sync_repository(owner, name).await? else {
            return Ok(());
        };
        self.sync_user(&owner_login).await?;
        self.sync_stargazers(&repository).await?;
        self.hydrate(0, repository.github_id).await
    }

    /// Fetches a developer's profile; `None` when GitHub no longer knows them (then marked).
    pub async fn sync_user(&self, login: &str) -> Result<Option<KnownDeveloper>, SyncError> {
        let url = self.github.url(&format!("/users/{}", segment(login)));
        let Some(body) = self.fetch_record(&url).await? else {
            return self.stored_or_refetch(login, &url).await;
        };
        let Ok(body) = body else {
            let gone = records::mark_developer_gone(login, Timestamp::now());
            self.db.run_in_transaction(&[gone]).await?;
            return Ok(None);
        };
        let (user, raw) = decode::<User>(body)?;
        let login = user.login.clone();
        let now = Timestamp::now();
        let mut statements = self.quota_statements(now);
        statements.push(records::upsert_profile(&convert::profile(user, raw), now));
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
        let body = match self.fetch_record(&url).await? {
            Some(Ok(body)) => body,
            Some(Err(mark)) => {
                self.db
                    .run_in_transaction(&[records::mark_repository(
                        &full_name,
                        mark,
                        Timestamp::now(),
                    )])
                    .await?;
                return Ok(None);
            }
            None => match self.db.known_repository(&full_name).await? {
                Some(known) => return Ok(Some((known, owner.to_owned()))),
                None => {
                    self.db
                        .run_in_transaction(&[http_cache::remember(
                            &url,
                            &Cached::default(),
                            Timestamp::now(),
                        )])
                        .await?;
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
        self.db.run_in_transaction(&statements).await?;
        Ok(self
            .db
            .known_repository(&full_name)
            .await?
            .map(|known| (known, owner_login)))
    }

    /// A repository's stargazers: none to fetch when GitHub counts none.
    async fn sync_stargazers(&self, repository: &KnownRepository) -> Result<(), SyncError> {
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
        match self.walk(&list).await {
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
    /// from lists: one GET each.
    async fn hydrate(&self, developer: i64, repository: i64) -> Result<(), SyncError> {
        for (_, login) in self.db.developers_to_hydrate(developer, repository).await? {
            self.sync_user(&login).await?;
        }
        Ok(())
    }

    /// Walks a developer's list; false when the developer turned out to be gone (then marked).
    async fn walk_or_mark_gone(&self, list: &List, login: &str) -> Result<bool, SyncError> {
        match self.walk(list).await {
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

    /// GETs a single record: `Some(Ok(body))`, `Some(Err(mark))` when GitHub says it is gone or
    /// blocked, `None` when unchanged since the stored copy.
    async fn fetch_record(
        &self,
        url: &str,
    ) -> Result<Option<Result<Value, RepositoryMark>>, SyncError> {
        let cached = self.db.cached(url).await?;
        let etag = cached.as_ref().and_then(|c| c.etag.as_deref());
        let fetched = self.github.get(url, etag, None).await;
        let now = Timestamp::now();
        let mut statements = self.quota_statements(now);
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
                statements.push(http_cache::remember(url, &remembered, now));
                Ok(Some(Ok(body)))
            }
            Ok(Fetched::NotModified) => Ok(None),
            Err(GitHubError::Gone { .. }) => Ok(Some(Err(RepositoryMark::Gone))),
            Err(GitHubError::Blocked) => Ok(Some(Err(RepositoryMark::Blocked))),
            Err(err) => Err(err.into()),
        };
        self.db.run_in_transaction(&statements).await?;
        answer
    }

    /// After a 304: the stored developer, or (when the store lost it) a fetch without the
    /// validator.
    async fn stored_or_refetch(
        &self,
        login: &str,
        url: &str,
    ) -> Result<Option<KnownDeveloper>, SyncError> {
        if let Some(known) = self.db.known_developer(login).await? {
            return Ok(Some(known));
        }
        self.db
            .run_in_transaction(&[http_cache::remember(
                url,
                &Cached::default(),
                Timestamp::now(),
            )])
            .await?;
        Box::pin(self.sync_user(login)).await
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
