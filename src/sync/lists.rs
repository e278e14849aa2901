//! Passes over GitHub's lists, page by page, over REST or GraphQL. Each round fetches the
//! next page of every pass under way (one GraphQL query reads up to 100 of them) and writes
//! the round's pages — records, edges, validators and where each pass stands — in one
//! transaction while the next round is fetched. An interrupted pass resumes at its next page;
//! a complete pass drops the edges GitHub no longer lists; a pass that stopped early drops
//! nothing.
//!
//! A list GitHub refuses to the credential (since 2026 it restricts stargazer lists to a
//! repository's admins and collaborators) is a state, not an error: whatever shape the refusal
//! takes — a 403 "not accessible", a 404 on a subject GitHub serves, an empty first page where
//! GitHub counts items, GraphQL's `FORBIDDEN` or an empty page beside a true `totalCount` —
//! the pass ends without a sweep and without marking anything gone, its step is reported
//! restricted, and the credential is known to be refused that kind of list (`restrictions`).

use std::collections::HashSet;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::restrictions::Gate;
use super::{Answer as Record, Step, Steps, SyncError, Syncer, convert};
use crate::db::collaborations::collaborations_stmts;
use crate::db::developers::{ListedDeveloper, Unhydrated, mark_gone_stmt, upsert_listed_stmt};
use crate::db::edges::{Edge, link_stmt, sweep_stmt, touch_stmt};
use crate::db::http_cache::{Cached, remember_stmt};
use crate::db::list_progress::{Progress, clear_stmt, save_stmt};
use crate::db::repositories::{
    RepositoryMark, RepositoryRecord, mark_stargazers_truncated_stmt, mark_stmts,
    upsert_repositories_stmts,
};
use crate::db::sql::Sql;
use crate::db::{Key, Timestamp};
use crate::github::graphql::{self, Connection, PageRequest};
use crate::github::models::{STAR_JSON, SimpleUser, Stargazer, StarredRepository};
use crate::github::{Fetched, GRAPHQL, GitHubError};
use crate::metrics::Stored;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Repositories,
    Followers,
    Following,
    Starred,
    Stargazers,
}

impl Kind {
    pub const ALL: [Self; 5] = [
        Self::Repositories,
        Self::Followers,
        Self::Following,
        Self::Starred,
        Self::Stargazers,
    ];

    /// How `list_progress` and a job's steps name the list.
    pub fn name(self) -> &'static str {
        match self {
            Self::Repositories => "repositories",
            Self::Followers => "followers",
            Self::Following => "following",
            Self::Starred => "starred",
            Self::Stargazers => "stargazers",
        }
    }

    /// The last segment of the list's REST URL.
    fn segment(self) -> &'static str {
        match self {
            Self::Repositories => "repos",
            other => other.name(),
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

    fn connection(self) -> Connection {
        match self {
            Self::Repositories => Connection::Repositories,
            Self::Followers => Connection::Followers,
            Self::Following => Connection::Following,
            Self::Starred => Connection::Starred,
            Self::Stargazers => Connection::Stargazers,
        }
    }
}

/// A list of a subject: a developer's (named by login) or a repository's stargazers (named
/// `owner/name`).
#[derive(Clone, Debug)]
pub struct List {
    pub kind: Kind,
    /// The subject's GitHub id.
    pub subject: i64,
    /// The subject's GraphQL id, when known.
    pub node_id: Option<String>,
    pub name: String,
    /// How many items GitHub counts in it, when known (a repository's `stargazers_count`):
    /// an empty first page beside a count above zero is a refusal.
    pub count: Option<i64>,
}

impl List {
    fn rest_path(&self) -> String {
        use super::convert::segment;
        match self.kind {
            Kind::Stargazers => {
                let (owner, name) = self.name.split_once('/').unwrap_or((&self.name, ""));
                format!("/repos/{}/{}/stargazers", segment(owner), segment(name))
            }
            kind => format!("/users/{}/{}", segment(&self.name), kind.segment()),
        }
    }

    /// The path of the subject's own record.
    fn record_path(&self) -> String {
        use super::convert::segment;
        match self.kind {
            Kind::Stargazers => {
                let (owner, name) = self.name.split_once('/').unwrap_or((&self.name, ""));
                format!("/repos/{}/{}", segment(owner), segment(name))
            }
            _ => format!("/users/{}", segment(&self.name)),
        }
    }

    pub fn step(&self) -> Step {
        Step::List(self.kind, self.subject)
    }

    /// Whether an empty first page, the last, says nothing of the list but that GitHub
    /// hides it: GitHub counts `count` items in it.
    fn hidden_by(&self, empty_first_page: bool, count: Option<i64>) -> Option<String> {
        let count = count.filter(|&count| count > 0)?;
        (empty_first_page && self.kind == Kind::Stargazers)
            .then(|| format!("an empty list where GitHub counts {count}"))
    }
}

/// Where a pass is: the next page's URL on REST, or the cursor after which GraphQL goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Cursor {
    Rest(String),
    Graphql(Option<String>),
}

/// How `list_progress` marks a GraphQL cursor, beside REST's URLs.
const GRAPHQL_CURSOR: &str = "graphql:";

impl Cursor {
    fn stored(&self) -> String {
        match self {
            Self::Rest(url) => url.clone(),
            Self::Graphql(cursor) => format!("{GRAPHQL_CURSOR}{}", cursor.as_deref().unwrap_or("")),
        }
    }

    fn from_stored(text: String) -> Self {
        match text.strip_prefix(GRAPHQL_CURSOR) {
            Some("") => Self::Graphql(None),
            Some(cursor) => Self::Graphql(Some(cursor.to_owned())),
            None => Self::Rest(text),
        }
    }
}

/// A pass over a list under way.
pub struct Pass {
    pub(super) list: List,
    at: Cursor,
    /// When the pass began: its sweep drops the edges no pass showed since.
    started: Timestamp,
    /// Whether it asks, once, whether GitHub still refuses this kind of list.
    pub(super) probe: bool,
    /// Whether its next page is the list's first.
    first: bool,
}

/// A page as fetched, before it is stored.
enum Answer {
    /// Items, where the list goes on, and (REST) what to remember of the page's URL.
    Page {
        items: PageItems,
        next: Option<Cursor>,
        remember: Option<Sql>,
    },
    /// REST's 304: the stored page stands; its item ids are seen again.
    Unchanged(Cached),
    /// GitHub pages this list no further (stargazers past 40,000).
    Truncated,
    /// The subject is gone (404/410, GraphQL's `NOT_FOUND`) or blocked (451).
    Refused(RepositoryMark),
    /// GitHub refuses this list to the credential, as it answered.
    Restricted(String),
    /// GitHub left this page out for the query's weight: asked again, in a smaller query.
    Again,
    /// GraphQL has no such list for this subject (an organization's followers): REST has.
    RestInstead,
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
    fn from_rest(kind: Kind, body: Value) -> Self {
        let mut page = Self::default();
        let Value::Array(items) = body else {
            return page;
        };
        for item in items {
            match kind {
                Kind::Followers | Kind::Following => {
                    if let Some(user) = parse::<SimpleUser>(&item) {
                        page.person(convert::listed(&user, item), None);
                    }
                }
                Kind::Stargazers => {
                    if let Some(star) = parse::<Stargazer>(&item) {
                        let raw = match item {
                            Value::Object(mut fields) => fields.remove("user"),
                            _ => None,
                        };
                        page.person(
                            convert::listed(&star.user, raw.unwrap_or_default()),
                            star.starred_at,
                        );
                    }
                }
                Kind::Starred => {
                    let starred =
                        skip_unexpected(StarredRepository::deserialize(item)).and_then(|star| {
                            Some((
                                skip_unexpected(convert::repository(star.repo, false))?,
                                star.starred_at,
                            ))
                        });
                    if let Some((repo, starred_at)) = starred {
                        page.repository(repo, starred_at);
                    }
                }
                Kind::Repositories => {
                    if let Some(repo) = skip_unexpected(convert::repository(item, false)) {
                        page.repository(repo, None);
                    }
                }
            }
        }
        page
    }

    fn from_graphql(kind: Kind, page: graphql::Page) -> Self {
        let mut items = Self::default();
        let starred = page
            .edges
            .into_iter()
            .map(|edge| (edge.node, edge.starred_at));
        let nodes = page.nodes.into_iter().map(|node| (node, None));
        for (node, starred_at) in nodes.chain(starred) {
            match kind {
                Kind::Followers | Kind::Following | Kind::Stargazers => {
                    if let Some(person) = skip_unexpected(convert::graphql_listed(node)) {
                        items.person(person, starred_at);
                    }
                }
                Kind::Starred | Kind::Repositories => {
                    if let Some(repo) = skip_unexpected(convert::graphql_repository(node)) {
                        items.repository(repo, starred_at);
                    }
                }
            }
        }
        items
    }

    fn person(
        &mut self,
        person: ListedDeveloper,
        starred_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        self.links
            .push((person.github_id, starred_at.map(Timestamp)));
        self.developers.push(person);
    }

    fn repository(
        &mut self,
        repo: RepositoryRecord,
        starred_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        self.links.push((repo.github_id, starred_at.map(Timestamp)));
        self.repositories.push(repo);
    }

    /// The statement that links the list's subject to this page's items, marked seen at
    /// `stored`.
    fn edges(&self, list: &List, stored: Timestamp) -> Option<Sql> {
        let edge = list.kind.edge()?;
        let mut seen = HashSet::new();
        let unique: Vec<_> = self
            .links
            .iter()
            .copied()
            .filter(|(id, _)| seen.insert(*id))
            .collect();
        link_stmt(edge, list.subject, &unique, stored)
    }
}

/// One item; an item GitHub shaped unexpectedly is logged and left out rather than failing
/// the whole list for ever.
fn parse<T: DeserializeOwned>(item: &Value) -> Option<T> {
    skip_unexpected(T::deserialize(item))
}

fn skip_unexpected<T>(parsed: serde_json::Result<T>) -> Option<T> {
    parsed
        .inspect_err(|err| {
            tracing::warn!(error = %err, "skipping a list item GitHub shaped unexpectedly");
        })
        .ok()
}

/// How many passes a round reads at most: one GraphQL query's worth and a few REST pages.
/// The others wait their turn, so the pages held in memory stay bounded however many lists
/// are under way (a crawl's hundreds, a developer's thousand repositories' stargazers).
const ROUND_GRAPHQL: usize = graphql::BATCH;
const ROUND_REST: usize = 10;

/// Takes the next round's passes from `waiting`, first come first served.
fn next_round(waiting: &mut Vec<Pass>) -> Vec<Pass> {
    let (mut graphql, mut rest) = (0, 0);
    let (round, left) = std::mem::take(waiting).into_iter().partition(|pass| {
        let (taken, most) = match pass.at {
            Cursor::Graphql(_) => (&mut graphql, ROUND_GRAPHQL),
            Cursor::Rest(_) => (&mut rest, ROUND_REST),
        };
        *taken += 1;
        *taken <= most
    });
    *waiting = left;
    round
}

/// What a round leaves to do once its pages are stored.
#[derive(Default)]
struct Round {
    /// The records its pages hold, written before its other statements.
    records: PageItems,
    statements: Vec<Sql>,
    continuing: Vec<Pass>,
    completed: Vec<List>,
    /// The GitHub ids of the developers its pages named.
    met: Vec<i64>,
    /// What its statements write, for the metrics.
    stored: Stored,
    failure: Option<SyncError>,
    /// Lists GitHub refused, with what it answered: their steps are done, as restricted.
    restricted: Vec<(List, String)>,
    /// Kinds of list a probe found served again.
    lifted: Vec<Kind>,
}

impl Round {
    /// Where `pass` goes after its page: on to `next`, or to its end, when the edges it did
    /// not see are dropped.
    fn advance(&mut self, pass: Pass, next: Option<Cursor>) {
        let list = &pass.list;
        match next {
            Some(at) => {
                let progress = Progress {
                    next_url: at.stored(),
                    pass_started: pass.started,
                };
                self.statements
                    .push(save_stmt(list.kind.name(), list.subject, &progress));
                self.continuing.push(Pass {
                    at,
                    first: false,
                    ..pass
                });
            }
            None => {
                if let Some(edge) = list.kind.edge() {
                    self.statements
                        .push(sweep_stmt(edge, list.subject, pass.started));
                }
                self.statements
                    .push(clear_stmt(list.kind.name(), list.subject));
                self.completed.push(pass.list);
            }
        }
    }

    /// A page of `list`'s, its edges marked with the time it is stored (never a pass's
    /// start: `db::edges`).
    fn page(
        &mut self,
        list: &List,
        items: PageItems,
        remember: Option<Sql>,
        now: Timestamp,
        steps: &Steps,
    ) {
        steps.page_stored(items.links.len());
        self.stored.edges += items.links.len();
        self.met
            .extend(items.developers.iter().map(|d| d.github_id));
        self.statements.extend(items.edges(list, now));
        self.statements.extend(remember);
        self.records.developers.extend(items.developers);
        self.records.repositories.extend(items.repositories);
    }

    /// A stargazer list GitHub pages no further: what was read stands, nothing is swept.
    fn truncated(&mut self, list: List) {
        tracing::info!(
            repository = list.subject,
            "GitHub stops this stargazer list here"
        );
        self.statements
            .push(mark_stargazers_truncated_stmt(list.subject));
        self.statements
            .push(clear_stmt(list.kind.name(), list.subject));
        self.completed.push(list);
    }

    /// The list's subject is gone or blocked: marked so.
    fn refused(&mut self, list: List, mark: RepositoryMark, now: Timestamp) {
        let subject = Key::GitHubId(list.subject);
        match list.kind {
            Kind::Stargazers => self.statements.extend(mark_stmts(subject, mark, now)),
            _ => self.statements.push(mark_gone_stmt(subject, now)),
        }
        self.statements
            .push(clear_stmt(list.kind.name(), list.subject));
    }

    /// GitHub refuses the list to the credential: the pass ends, and every edge stored of
    /// it stays (what other lists showed of it is as true as before).
    fn restricted(&mut self, list: List, answer: String) {
        self.statements
            .push(clear_stmt(list.kind.name(), list.subject));
        self.restricted.push((list, answer));
    }

    /// The round's records are written first, before the edges to them, all of a kind in one
    /// statement in the order of their GitHub ids: concurrent rounds then take the rows'
    /// locks in one order, and cannot deadlock on them.
    fn put_records_first(&mut self, now: Timestamp, credential: &str) {
        let records = &mut self.records;
        let owners = records.repositories.iter().map(|r| r.owner.clone());
        records.developers.extend(owners.collect::<Vec<_>>());
        self.stored.developers = records.developers.len();
        self.stored.repositories = records.repositories.len();
        let mut statements: Vec<Sql> = upsert_listed_stmt(&records.developers, now)
            .into_iter()
            .collect();
        statements.extend(upsert_repositories_stmts(&records.repositories, now));
        statements.extend(collaborations_stmts(credential, &records.repositories));
        statements.append(&mut self.statements);
        self.statements = statements;
    }
}

impl Syncer {
    /// The pass over `list`: resumed where an interrupted one stopped, or begun over the
    /// cheaper API that has quota; none when GitHub refuses such lists to the credential and
    /// no probe is due (the step is then done, as restricted).
    pub(super) async fn begin(&self, list: List, steps: &Steps) -> Result<Option<Pass>, SyncError> {
        let probe = match self.gate(&list).await? {
            Gate::Open => false,
            Gate::Probe => true,
            Gate::Closed => {
                steps
                    .complete(Step::Restricted(list.kind, list.subject))
                    .await?;
                return Ok(None);
            }
        };
        Ok(Some(Pass {
            probe,
            ..self.resume_or_start(list).await?
        }))
    }

    async fn resume_or_start(&self, list: List) -> sqlx::Result<Pass> {
        if let Some(progress) = self
            .db
            .list_progress(list.kind.name(), list.subject)
            .await?
        {
            let mut at = Cursor::from_stored(progress.next_url);
            // A pass begun over GraphQL that GraphQL can no longer read (it was turned off,
            // or the subject is not named) goes on over REST from the start: it keeps its
            // start, and REST shows it every edge again.
            if matches!(at, Cursor::Graphql(_))
                && !(self.github.graphql_enabled() && list.node_id.is_some())
            {
                at = Cursor::Rest(self.github.list_url(&list.rest_path()));
            }
            return Ok(Pass {
                list,
                at,
                started: progress.pass_started,
                probe: false,
                first: false,
            });
        }
        let first = self.github.list_url(&list.rest_path());
        let at = if self.prefers_graphql(list.node_id.is_some(), &first).await? {
            Cursor::Graphql(None)
        } else {
            Cursor::Rest(first)
        };
        Ok(Pass {
            list,
            at,
            started: Timestamp::now(),
            probe: false,
            first: true,
        })
    }

    /// GraphQL for what was never read over REST (no validator stored: a REST read would cost
    /// as much, and brings no profiles), REST for a re-read (a 304 is free).
    pub(super) async fn prefers_graphql(&self, named: bool, rest_url: &str) -> sqlx::Result<bool> {
        Ok(named
            && self.github.graphql_enabled()
            && self.github.affords(GRAPHQL)
            && self.db.cached(rest_url).await?.is_none())
    }

    /// Runs `passes` to their ends. A developer's complete repositories list brings the
    /// passes over their repositories' stargazers. With GraphQL, the profiles of the
    /// developers the pages name are fetched as they come, a full query of them at a time;
    /// the caller fetches the rest (over REST, where a profile is a request either way, all
    /// of them, once the lists are read).
    pub(super) async fn run_passes(
        &self,
        passes: Vec<Pass>,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        let mut waiting = passes;
        let mut unhydrated = Vec::new();
        let mut fetched = self.fetch_round(next_round(&mut waiting)).await?;
        while !fetched.is_empty() {
            let round = self.digest(fetched, steps);
            let next = if round.failure.is_none() {
                waiting.extend(round.continuing);
                next_round(&mut waiting)
            } else {
                Vec::new()
            };
            // The round is stored while the next is fetched: GitHub still sees one request
            // at a time, and rounds are written in order. Should the write fail, the pages
            // fetched meanwhile are asked for again on resuming.
            let (stored, upcoming) = tokio::join!(
                self.db.run_in_transaction(&round.statements),
                self.fetch_round(next)
            );
            stored?;
            round.stored.count();
            steps
                .complete_all(round.completed.iter().map(List::step).collect())
                .await?;
            let refused = self.learn(&round.restricted, &round.lifted, steps).await?;
            if let Some(failure) = round.failure {
                return Err(failure);
            }
            // No more lists of a kind GitHub refuses are asked for.
            let (closed, open) = self
                .closed_by(&refused, std::mem::take(&mut waiting))
                .await?;
            waiting = open;
            let closed: Vec<Step> = closed
                .iter()
                .map(|pass| Step::Restricted(pass.list.kind, pass.list.subject))
                .collect();
            steps.complete_all(closed).await?;
            fetched = upcoming?;
            if self.github.graphql_enabled() {
                self.hydrate_full_batches(&mut unhydrated, &round.met, steps)
                    .await?;
            }
            for list in &round.completed {
                if list.kind == Kind::Repositories {
                    waiting.extend(self.stargazer_passes(list.subject, steps).await?);
                }
            }
            if fetched.is_empty() {
                fetched = self.fetch_round(next_round(&mut waiting)).await?;
            }
        }
        Ok(())
    }

    /// Adds the developers `met` known only from lists to `pending`, and fetches the profiles
    /// of as many full batches as it holds.
    async fn hydrate_full_batches(
        &self,
        pending: &mut Vec<Unhydrated>,
        met: &[i64],
        steps: &Steps,
    ) -> Result<(), SyncError> {
        let known: HashSet<i64> = pending.iter().map(|d| d.github_id).collect();
        let new = self.db.unhydrated(met).await?;
        pending.extend(new.into_iter().filter(|d| !known.contains(&d.github_id)));
        let full = self.github.sizing().now().ids;
        while pending.len() >= full {
            let batch: Vec<_> = pending.drain(..full).collect();
            self.fetch_profiles(batch, steps).await?;
        }
        Ok(())
    }

    /// The next page of each pass: the GraphQL ones as many to a query as GitHub's limits
    /// let through (a hundred at most), the REST ones one request each.
    async fn fetch_round(
        &self,
        passes: Vec<Pass>,
    ) -> sqlx::Result<Vec<(Pass, Result<Answer, SyncError>)>> {
        let (graphql, rest): (Vec<Pass>, Vec<Pass>) = passes
            .into_iter()
            .partition(|pass| matches!(pass.at, Cursor::Graphql(_)));
        let mut fetched = Vec::new();
        let mut graphql = graphql.into_iter().peekable();
        while graphql.peek().is_some() {
            let lists = self.github.sizing().now().lists;
            let batch: Vec<Pass> = graphql.by_ref().take(lists).collect();
            fetched.extend(self.fetch_graphql(batch).await);
        }
        for pass in rest {
            let answer = self.fetch_rest(&pass).await?;
            fetched.push((pass, answer));
        }
        Ok(fetched)
    }

    async fn fetch_rest(&self, pass: &Pass) -> sqlx::Result<Result<Answer, SyncError>> {
        let Cursor::Rest(url) = &pass.at else {
            unreachable!("REST passes only");
        };
        let kind = pass.list.kind;
        let cached = self.db.cached(url).await?;
        let etag = cached.as_ref().and_then(|c| c.etag.as_deref());
        Ok(match self.github.get(url, etag, kind.accept()).await {
            Ok(Fetched::Fresh {
                body,
                etag,
                last_modified,
                next,
            }) => {
                let items = PageItems::from_rest(kind, body);
                let empty = pass.first && items.links.is_empty() && next.is_none();
                if let Some(hidden) = pass.list.hidden_by(empty, pass.list.count) {
                    // Its validator is not kept: a 304 would later pass it off as read.
                    return Ok(Ok(Answer::Restricted(format!("200: {hidden}"))));
                }
                let remembered = Cached {
                    etag,
                    last_modified,
                    next_url: next.clone(),
                    item_ids: items.links.iter().map(|(id, _)| *id).collect(),
                };
                Ok(Answer::Page {
                    items,
                    next: next.map(Cursor::Rest),
                    remember: Some(remember_stmt(url, &remembered, Timestamp::now())),
                })
            }
            Ok(Fetched::NotModified) => Ok(Answer::Unchanged(cached.unwrap_or_default())),
            Err(GitHubError::PaginationLimited) if kind == Kind::Stargazers => {
                Ok(Answer::Truncated)
            }
            Err(GitHubError::Gone { status }) => self.gone_or_hidden(&pass.list, status).await,
            Err(GitHubError::Blocked) => Ok(Answer::Refused(RepositoryMark::Blocked)),
            Err(GitHubError::Restricted { answer }) => Ok(Answer::Restricted(answer)),
            Err(err) => Err(err.into()),
        })
    }

    /// A list answered 404 or 410: its subject is gone, unless GitHub still serves the
    /// subject's own record — then it hides the list from the credential.
    async fn gone_or_hidden(&self, list: &List, status: u16) -> Result<Answer, SyncError> {
        let url = self.github.url(&list.record_path());
        Ok(match self.fetch_record(&url).await? {
            Record::Fresh { .. } | Record::Unchanged => Answer::Restricted(format!(
                "{status} on the list of a {} GitHub serves",
                if list.kind == Kind::Stargazers {
                    "repository"
                } else {
                    "developer"
                }
            )),
            Record::Refused(mark) => Answer::Refused(mark),
        })
    }

    async fn fetch_graphql(&self, passes: Vec<Pass>) -> Vec<(Pass, Result<Answer, SyncError>)> {
        let requests: Vec<PageRequest> = passes
            .iter()
            .map(|pass| PageRequest {
                connection: pass.list.kind.connection(),
                subject: pass.list.node_id.clone().unwrap_or_default(),
                after: match &pass.at {
                    Cursor::Graphql(after) => after.clone(),
                    Cursor::Rest(_) => None,
                },
            })
            .collect();
        let sizing = self.github.sizing();
        let (query, variables) = graphql::pages_query(&requests, sizing.now().items);
        let answer = match self.github.graphql(&query, variables).await {
            Ok(answer) => answer,
            Err(err) => return self.unanswered(passes, err),
        };
        // Left out of the smallest query there is, a page would be asked for ever.
        let smaller = sizing.took_pages(answer.cut_short());
        passes
            .into_iter()
            .enumerate()
            .map(|(index, pass)| {
                let alias = Value::String(format!("l{index}"));
                let page = match graphql_page(&answer, &alias, &pass) {
                    Answer::Again if !smaller => {
                        Err(SyncError::GitHub(GitHubError::failed_because(
                            "GitHub's resource limits leave out even the smallest query",
                        )))
                    }
                    page => Ok(page),
                };
                (pass, page)
            })
            .collect()
    }

    /// What becomes of passes whose query GitHub did not answer: asked again smaller when it
    /// was cut short, the stargazer lists refused when GitHub refused the query (the others
    /// then go on without them), failed otherwise.
    fn unanswered(
        &self,
        passes: Vec<Pass>,
        err: GitHubError,
    ) -> Vec<(Pass, Result<Answer, SyncError>)> {
        let again = match &err {
            GitHubError::QueryLimit { timed_out, .. } => {
                self.github.sizing().shrink_pages(*timed_out)
            }
            GitHubError::Restricted { .. } => {
                passes.iter().any(|pass| pass.list.kind == Kind::Stargazers)
            }
            _ => false,
        };
        passes
            .into_iter()
            .map(|pass| {
                let answer = match &err {
                    GitHubError::Restricted { answer } if pass.list.kind == Kind::Stargazers => {
                        Ok(Answer::Restricted(format!("GraphQL {answer}")))
                    }
                    _ if again => Ok(Answer::Again),
                    _ => Err(SyncError::from(err.clone())),
                };
                (pass, answer)
            })
            .collect()
    }

    /// Turns a round's answers into what to write and what goes on.
    fn digest(&self, fetched: Vec<(Pass, Result<Answer, SyncError>)>, steps: &Steps) -> Round {
        let now = Timestamp::now();
        let mut round = Round::default();
        let mut refused: HashSet<(bool, i64)> = HashSet::new();
        for (pass, answer) in fetched {
            let list = &pass.list;
            let next = match answer {
                Ok(Answer::Page {
                    items,
                    next,
                    remember,
                }) => {
                    if pass.probe {
                        round.lifted.push(list.kind);
                    }
                    round.page(list, items, remember, now, steps);
                    next
                }
                Ok(Answer::Unchanged(cached)) => {
                    if pass.probe {
                        round.lifted.push(list.kind);
                    }
                    if let Some(edge) = list.kind.edge() {
                        let touched = touch_stmt(edge, list.subject, &cached.item_ids, now);
                        round.statements.extend(touched);
                    }
                    cached.next_url.map(Cursor::Rest)
                }
                Ok(Answer::Truncated) => {
                    round.truncated(pass.list);
                    continue;
                }
                Ok(Answer::Refused(mark)) => {
                    refused.insert((list.kind == Kind::Stargazers, list.subject));
                    round.refused(pass.list, mark, now);
                    continue;
                }
                Ok(Answer::Restricted(answer)) => {
                    round.restricted(pass.list, answer);
                    continue;
                }
                Ok(Answer::Again) => {
                    round.continuing.push(pass);
                    continue;
                }
                Ok(Answer::RestInstead) => {
                    let first = self.github.list_url(&list.rest_path());
                    round.continuing.push(Pass {
                        at: Cursor::Rest(first),
                        started: now,
                        first: true,
                        ..pass
                    });
                    continue;
                }
                Err(err) => {
                    round.failure.get_or_insert(err);
                    continue;
                }
            };
            round.advance(pass, next);
        }
        // The other lists of a subject GitHub no longer has are not asked for again.
        round.continuing.retain(|pass| {
            !refused.contains(&(pass.list.kind == Kind::Stargazers, pass.list.subject))
        });
        round.put_records_first(now, self.github.credential_id());
        round
    }
}

/// The page at `alias` of a GraphQL answer. A subject GitHub says it does not have is
/// refused; a list it refuses the credential (`FORBIDDEN`, or no items beside a count above
/// zero) is restricted; a page it left out for the query's weight is asked again; anything
/// else GraphQL does not answer as expected (a node of another type, an error of another
/// kind) is read over REST instead, which says plainly what it is.
fn graphql_page(answer: &graphql::Answer, alias: &Value, pass: &Pass) -> Answer {
    let path = std::slice::from_ref(alias);
    if let Some(message) = answer.forbidden(path) {
        return Answer::Restricted(format!("GraphQL FORBIDDEN: {message}"));
    }
    let node = alias.as_str().and_then(|alias| answer.data.get(alias));
    let page = node
        .and_then(|node| node.get("list"))
        .and_then(|list| graphql::Page::deserialize(list).ok());
    let Some(page) = page else {
        return if answer.left_out(path) {
            Answer::Again
        } else if node.is_none_or(Value::is_null) && answer.not_found(path) {
            Answer::Refused(RepositoryMark::Gone)
        } else {
            Answer::RestInstead
        };
    };
    let empty = pass.first && page.nodes.is_empty() && page.edges.is_empty();
    let empty = empty && !page.page_info.has_next_page;
    if let Some(hidden) = pass.list.hidden_by(empty, page.total_count) {
        return Answer::Restricted(format!("GraphQL: {hidden}"));
    }
    let next = page
        .page_info
        .has_next_page
        .then(|| Cursor::Graphql(page.page_info.end_cursor.clone()));
    Answer::Page {
        items: PageItems::from_graphql(pass.list.kind, page),
        next,
        remember: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_from_list_progress() {
        for cursor in [
            Cursor::Rest("https://api.github.com/user/1/followers?page=2".into()),
            Cursor::Graphql(Some("Y3Vyc29yOjEwMA==".into())),
        ] {
            assert_eq!(Cursor::from_stored(cursor.stored()), cursor);
        }
    }
}
