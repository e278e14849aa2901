//! One pass over one of GitHub's lists, page by page: each page's records, edges, validators
//! and the place the pass has reached are written in one transaction, so an interrupted pass
//! resumes at the next page, and a complete pass drops the edges GitHub no longer lists.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Step, Steps, SyncError, Syncer, convert};
use crate::db::Timestamp;
use crate::db::developers::{ListedDeveloper, upsert_listed_stmt};
use crate::db::edges::{Edge, link_stmt, sweep_stmt, touch_stmt};
use crate::db::http_cache::{Cached, remember_stmt};
use crate::db::list_progress::{Progress, clear_stmt, save_stmt};
use crate::db::repositories::{
    RepositoryRecord, mark_stargazers_truncated_stmt, upsert_repositories_stmts,
};
use crate::db::sql::Sql;
use crate::github::models::{STAR_JSON, SimpleUser, Stargazer, StarredRepository};
use crate::github::{Fetched, GitHubError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Repositories,
    Followers,
    Following,
    Starred,
    Stargazers,
}

/// A list of a subject (a developer's or a repository's GitHub id) at `path`.
pub struct List {
    pub kind: Kind,
    pub subject: i64,
    pub path: String,
}

impl Kind {
    /// How `list_progress` names the list.
    fn name(self) -> &'static str {
        match self {
            Self::Repositories => "repositories",
            Self::Followers => "followers",
            Self::Following => "following",
            Self::Starred => "starred",
            Self::Stargazers => "stargazers",
        }
    }

    /// A developer's list as a step of a full profile sync, and its URL's last segment.
    pub fn of_developer(self) -> Option<(Step, &'static str)> {
        match self {
            Self::Repositories => Some((Step::Repositories, "repos")),
            Self::Followers => Some((Step::Followers, "followers")),
            Self::Following => Some((Step::Following, "following")),
            Self::Starred => Some((Step::Starred, "starred")),
            Self::Stargazers => None,
        }
    }

    pub fn edge(self) -> Option<Edge> {
        match self {
            Self::Repositories => None,
            Self::Followers => Some(Edge::Followers),
            Self::Following => Some(Edge::Following),
            Self::Starred => Some(Edge::Starred),
            Self::Stargazers => Some(Edge::Stargazers),
        }
    }

    fn accept(self) -> Option<&'static str> {
        matches!(self, Self::Starred | Self::Stargazers).then_some(STAR_JSON)
    }
}

/// What one page holds, ready to store.
#[derive(Default)]
struct PageItems {
    developers: Vec<ListedDeveloper>,
    repositories: Vec<RepositoryRecord>,
    /// (item's GitHub id, starred_at) for edges, in page order.
    links: Vec<(i64, Option<Timestamp>)>,
}

impl PageItems {
    fn read(kind: Kind, body: &Value) -> Self {
        let mut page = Self::default();
        for item in body.as_array().into_iter().flatten() {
            match kind {
                Kind::Followers | Kind::Following => {
                    if let Some(user) = parse::<SimpleUser>(item) {
                        page.links.push((user.id, None));
                        page.developers.push(convert::listed(&user, item.clone()));
                    }
                }
                Kind::Stargazers => {
                    if let Some(star) = parse::<Stargazer>(item) {
                        page.links
                            .push((star.user.id, star.starred_at.map(Timestamp)));
                        let raw = item.get("user").cloned().unwrap_or(Value::Null);
                        page.developers.push(convert::listed(&star.user, raw));
                    }
                }
                Kind::Starred => {
                    let starred = parse::<StarredRepository>(item)
                        .and_then(|star| Some((repository(star.repo)?, star.starred_at)));
                    if let Some((repo, starred_at)) = starred {
                        page.links.push((repo.github_id, starred_at.map(Timestamp)));
                        page.repositories.push(repo);
                    }
                }
                Kind::Repositories => {
                    if let Some(repo) = repository(item.clone()) {
                        page.links.push((repo.github_id, None));
                        page.repositories.push(repo);
                    }
                }
            }
        }
        page
    }

    fn statements(&self, list: &List, pass: Timestamp, now: Timestamp) -> Vec<Sql> {
        let mut statements: Vec<Sql> = upsert_listed_stmt(&self.developers, now)
            .into_iter()
            .collect();
        statements.extend(upsert_repositories_stmts(&self.repositories, now));
        if let Some(edge) = list.kind.edge() {
            let mut seen = std::collections::HashSet::new();
            let unique: Vec<_> = self
                .links
                .iter()
                .copied()
                .filter(|(id, _)| seen.insert(*id))
                .collect();
            statements.extend(link_stmt(edge, list.subject, &unique, pass));
        }
        statements
    }
}

/// One item; an item GitHub shaped unexpectedly is logged and left out rather than failing
/// the whole list for ever.
fn parse<T: DeserializeOwned>(item: &Value) -> Option<T> {
    skip_unexpected(T::deserialize(item))
}

/// A repository as a list shows it, or nothing (logged) when it is shaped unexpectedly.
fn repository(raw: Value) -> Option<RepositoryRecord> {
    skip_unexpected(convert::repository(raw, false))
}

fn skip_unexpected<T>(parsed: serde_json::Result<T>) -> Option<T> {
    parsed
        .inspect_err(|err| {
            tracing::warn!(error = %err, "skipping a list item GitHub shaped unexpectedly");
        })
        .ok()
}

impl Syncer {
    /// Walks `list` to its end (resuming a pass left unfinished), or until GitHub says it
    /// can be paged no further.
    pub(super) async fn walk(&self, list: &List, steps: &Steps) -> Result<(), SyncError> {
        let name = list.kind.name();
        let (mut url, pass) = match self.db.list_progress(name, list.subject).await? {
            Some(progress) => (progress.next_url, progress.pass_started),
            None => (self.github.list_url(&list.path), Timestamp::now()),
        };
        let (mut cached, mut fetched) = self.fetch(list, &url).await?;
        loop {
            let now = Timestamp::now();
            let mut statements = self.quota_statements(now);
            let next = match fetched {
                Ok(Fetched::Fresh {
                    body,
                    etag,
                    last_modified,
                    next,
                }) => {
                    let page = PageItems::read(list.kind, &body);
                    steps.page_stored(page.links.len());
                    statements.extend(page.statements(list, pass, now));
                    let remembered = Cached {
                        etag,
                        last_modified,
                        next_url: next.clone(),
                        item_ids: page.links.iter().map(|(id, _)| *id).collect(),
                    };
                    statements.push(remember_stmt(&url, &remembered, now));
                    next
                }
                Ok(Fetched::NotModified) => {
                    let cached = cached.unwrap_or_default();
                    if let Some(edge) = list.kind.edge() {
                        statements.extend(touch_stmt(edge, list.subject, &cached.item_ids, pass));
                    }
                    cached.next_url
                }
                Err(GitHubError::PaginationLimited) if list.kind == Kind::Stargazers => {
                    tracing::info!(
                        repository = list.subject,
                        "GitHub stops this stargazer list here"
                    );
                    statements.push(mark_stargazers_truncated_stmt(list.subject));
                    statements.push(clear_stmt(name, list.subject));
                    self.db.run_in_transaction(&statements).await?;
                    return Ok(());
                }
                Err(err) => {
                    self.db.run_in_transaction(&statements).await?;
                    return Err(err.into());
                }
            };
            match next {
                Some(next_url) => {
                    let progress = Progress {
                        next_url: next_url.clone(),
                        pass_started: pass,
                    };
                    statements.push(save_stmt(name, list.subject, &progress));
                    // The page is stored while the next one is fetched: GitHub still sees one
                    // request at a time and pages are written in order. Should the write fail,
                    // the page fetched meanwhile is asked for again on resuming: one request.
                    let (stored, upcoming) = tokio::join!(
                        self.db.run_in_transaction(&statements),
                        self.fetch(list, &next_url)
                    );
                    stored?;
                    (cached, fetched) = upcoming?;
                    url = next_url;
                }
                None => {
                    if let Some(edge) = list.kind.edge() {
                        statements.push(sweep_stmt(edge, list.subject, pass));
                    }
                    statements.push(clear_stmt(name, list.subject));
                    return Ok(self.db.run_in_transaction(&statements).await?);
                }
            }
        }
    }

    /// The page at `url`, asked for with the validator of the copy stored, and that copy.
    async fn fetch(
        &self,
        list: &List,
        url: &str,
    ) -> sqlx::Result<(Option<Cached>, Result<Fetched, GitHubError>)> {
        let cached = self.db.cached(url).await?;
        let etag = cached.as_ref().and_then(|c| c.etag.as_deref());
        let fetched = self.github.get(url, etag, list.kind.accept()).await;
        Ok((cached, fetched))
    }
}
