//! A fake of GitHub's REST and GraphQL APIs over real HTTP, for tests of the GitHub client
//! and the sync. Its answers have api.github.com's shapes, headers, quota rules (a quota per
//! resource) and failures, GitHub App authentication, and a limit on requests in flight; its
//! data is a generated `Graph` that tests may change between syncs.

mod app;
pub mod graphql;
pub mod limits;
mod network;
pub mod star_history;

pub use limits::{Restrictions, WorkLimit};
pub use network::Network;

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request as HttpRequest, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, IF_NONE_MATCH};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::oneshot;

// ---------------------------------------------------------------------------------------------
// The graph: what GitHub knows, and its generator
// ---------------------------------------------------------------------------------------------

/// The user every generated graph revolves around.
const CENTER: i64 = 1;
/// Repository ids start far from user ids, so that code mixing the two up fails.
const REPO_IDS: i64 = 100_000;

const YEAR: i64 = 365 * 24 * 3600;
const JOINED_FROM: i64 = 1_201_824_000; // 2008-02-01
const JOINED_UNTIL: i64 = 1_577_836_800; // 2020-01-01
const REPOS_FROM: i64 = 1_325_376_000; // 2012-01-01
const REPOS_UNTIL: i64 = 1_590_969_600; // 2020-06-01
const STARS_FROM: i64 = 1_420_070_400; // 2015-01-01
const STARS_UNTIL: i64 = 1_601_510_400; // 2020-10-01

const FIRST_NAMES: &[&str] = &[
    "Ada", "Bea", "Cyril", "Dana", "Emeka", "Farah", "Gus", "Hana", "Ivo", "Jun",
];
const LAST_NAMES: &[&str] = &[
    "Abbott", "Brandt", "Castro", "Dimitrov", "Eze", "Fischer", "Gupta", "Holm",
];
const UNICODE_NAMES: &[&str] = &[
    "Zoë Ångström",
    "José Núñez",
    "Łucja Wróbel",
    "Søren Bjørnstad",
    "Ünal Çelik",
    "Nguyễn Thị Hà",
    "Дарья Соколова",
    "山田 花子",
];
const COMPANIES: &[&str] = &[
    "Acme Widgets",
    "@initech",
    "Globex Corporation",
    "Umbrella Labs",
    "Self-employed",
];
const LOCATIONS: &[&str] = &[
    "Lisbon",
    "São Paulo",
    "Kraków",
    "Reykjavík",
    "Nairobi",
    "Osaka",
    "Toronto",
    "Earth",
];
const BIOS: &[&str] = &[
    "Rustacean.",
    "Compilers, parsers and other small machines.",
    "Open source at night ☕",
    "Data wrangler",
    "Écrit du code et des tests.",
];
const REPO_WORDS: &[&str] = &[
    "path-finder",
    "dotfiles",
    "tiny-http",
    "pixel-sort",
    "budget-cli",
    "lisp-in-rust",
    "weather-bot",
    "notes",
];
const DESCRIPTIONS: &[&str] = &[
    "A small experiment.",
    "Command-line tool for tidy budgets",
    "Toy interpreter written on weekends",
    "Générateur de fractales ✨",
    "Bot that reports the weather",
    "Config files, shared for convenience",
];
const LANGUAGES: &[Option<&str>] = &[
    None,
    Some("Rust"),
    Some("Python"),
    Some("Go"),
    Some("TypeScript"),
    Some("C"),
    Some("Haskell"),
];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub users: Vec<User>,
    pub repos: Vec<Repo>,
    /// (follower id, followee id)
    pub follows: Vec<(i64, i64)>,
    /// (user id, repository id, starred_at as RFC 3339 like "2020-10-01T12:00:00Z")
    pub stars: Vec<(i64, i64, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub login: String,
    /// An organization: GitHub serves it as a user of type `Organization`.
    pub organization: bool,
    pub name: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub public_gists: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Repo {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub private: bool,
    pub archived: bool,
    pub disabled: bool,
    pub has_issues: bool,
    pub has_projects: bool,
    pub has_downloads: bool,
    pub has_wiki: bool,
    pub has_pages: bool,
    pub open_issues_count: i64,
    pub subscribers_count: i64,
    /// Kilobytes, REST's `size` and GraphQL's `diskUsage`.
    pub size: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// The size of a generated graph, as seen from its center.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub followers: usize,
    pub following: usize,
    pub repos: usize,
    pub starred: usize,
    pub max_stargazers: usize,
    pub seed: u64,
}

impl Graph {
    /// A user "center" (id 1, login "center") with `followers` followers, `following` followees,
    /// `repos` own repositories and `starred` starred repositories (owned by a handful of other
    /// users, several repositories each), plus the other users those imply. Every third follower
    /// is followed back, so the lists share users. Each of center's repositories has between 0
    /// and `max_stargazers` stargazers drawn from the other users: the first has none and, when
    /// `max_stargazers >= 150`, the last has more than 100, so that pagination is exercised.
    /// Logins are ASCII ("user-17"); about one user in seven has a non-ASCII name, and names,
    /// bios, emails, companies and locations are sometimes null. The same shape always yields
    /// the same graph.
    pub fn generate(shape: Shape) -> Graph {
        let mut maker = Maker {
            rng: Rng(shape.seed),
            graph: Graph::default(),
        };
        maker.user("center".to_owned());
        let followers: Vec<i64> = (0..shape.followers).map(|_| maker.other_user()).collect();
        let mut following: Vec<i64> = followers
            .iter()
            .copied()
            .step_by(3)
            .take(shape.following)
            .collect();
        while following.len() < shape.following {
            following.push(maker.other_user());
        }
        maker
            .graph
            .follows
            .extend(followers.iter().map(|&id| (id, CENTER)));
        maker
            .graph
            .follows
            .extend(following.iter().map(|&id| (CENTER, id)));

        let own: Vec<i64> = (0..shape.repos).map(|_| maker.repo(CENTER)).collect();
        let owners: Vec<i64> = (0..shape.starred.div_ceil(4).min(5))
            .map(|_| maker.other_user())
            .collect();
        for index in 0..shape.starred {
            let repo = maker.repo(owners[index % owners.len()]);
            maker.star(CENTER, repo);
        }

        let mut pool: Vec<i64> = maker
            .graph
            .users
            .iter()
            .map(|user| user.id)
            .filter(|&id| id != CENTER)
            .collect();
        while pool.len() < shape.max_stargazers {
            pool.push(maker.other_user());
        }
        for (index, &repo) in own.iter().enumerate() {
            let count = maker.stargazer_count(index, own.len(), shape.max_stargazers);
            // A partial Fisher–Yates shuffle draws distinct stargazers without a set.
            for slot in 0..count {
                let chosen = slot + maker.rng.below(pool.len() - slot);
                pool.swap(slot, chosen);
                maker.star(pool[slot], repo);
            }
        }
        maker.graph
    }

    /// By login, ignoring case as GitHub does.
    pub fn user(&self, login: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|user| user.login.eq_ignore_ascii_case(login))
    }

    pub fn followers_of(&self, id: i64) -> Vec<i64> {
        ascending(
            self.follows
                .iter()
                .filter(|follow| follow.1 == id)
                .map(|follow| follow.0),
        )
    }

    pub fn following_of(&self, id: i64) -> Vec<i64> {
        ascending(
            self.follows
                .iter()
                .filter(|follow| follow.0 == id)
                .map(|follow| follow.1),
        )
    }

    pub fn repos_of(&self, owner_id: i64) -> Vec<&Repo> {
        let mut repos: Vec<&Repo> = self
            .repos
            .iter()
            .filter(|repo| repo.owner_id == owner_id)
            .collect();
        repos.sort_by_key(|repo| repo.id);
        repos
    }

    /// (user id, starred_at), oldest star first.
    pub fn stargazers_of(&self, repo_id: i64) -> Vec<(i64, String)> {
        by_time(
            self.stars
                .iter()
                .filter(|star| star.1 == repo_id)
                .map(|star| (star.0, star.2.clone())),
        )
    }

    /// (repository id, starred_at), oldest star first.
    pub fn starred_by(&self, user_id: i64) -> Vec<(i64, String)> {
        by_time(
            self.stars
                .iter()
                .filter(|star| star.0 == user_id)
                .map(|star| (star.1, star.2.clone())),
        )
    }
}

fn ascending(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Star times in RFC 3339 with one format sort as text; ids break ties so the order is stable.
fn by_time(stars: impl IntoIterator<Item = (i64, String)>) -> Vec<(i64, String)> {
    let mut stars: Vec<(i64, String)> = stars.into_iter().collect();
    stars.sort_by(|(a_id, a_at), (b_id, b_at)| a_at.cmp(b_at).then(a_id.cmp(b_id)));
    stars
}

/// Builds a graph from a single PRNG, so that a seed always yields the same graph.
struct Maker {
    rng: Rng,
    graph: Graph,
}

impl Maker {
    fn other_user(&mut self) -> i64 {
        let login = format!("user-{}", self.graph.users.len() + 1);
        self.user(login)
    }

    fn user(&mut self, login: String) -> i64 {
        let id = self.graph.users.len() as i64 + 1;
        let created = self.moment(JOINED_FROM, JOINED_UNTIL);
        let updated = created + self.rng.below(2 * YEAR as usize) as i64;
        let name = match self.rng.below(7) {
            0 => Some(format!("{} {id}", self.pick(UNICODE_NAMES))),
            1 => None,
            _ => {
                let first = self.pick(FIRST_NAMES);
                let last = self.pick(LAST_NAMES);
                Some(format!("{first} {last}"))
            }
        };
        let company = (!self.one_in(3)).then(|| self.pick(COMPANIES).to_owned());
        let location = (!self.one_in(4)).then(|| self.pick(LOCATIONS).to_owned());
        let email = self.one_in(2).then(|| format!("{login}@example.com"));
        let bio = self.one_in(2).then(|| self.pick(BIOS).to_owned());
        let public_gists = self.rng.below(40) as i64;
        self.graph.users.push(User {
            id,
            login,
            organization: false,
            name,
            company,
            location,
            email,
            bio,
            public_gists,
            created_at: timestamp(created),
            updated_at: timestamp(updated),
        });
        id
    }

    fn repo(&mut self, owner_id: i64) -> i64 {
        let id = REPO_IDS + self.graph.repos.len() as i64 + 1;
        let created = self.moment(REPOS_FROM, REPOS_UNTIL);
        let updated = created + self.rng.below(2 * YEAR as usize) as i64;
        let word = self.pick(REPO_WORDS);
        let description = (!self.one_in(5)).then(|| self.pick(DESCRIPTIONS).to_owned());
        let homepage = match self.rng.below(3) {
            0 => None,
            // GitHub keeps a cleared homepage as "", not null.
            1 => Some(String::new()),
            _ => Some(format!("https://{word}.example.org")),
        };
        let language = self.pick(LANGUAGES).map(str::to_owned);
        let repo = Repo {
            id,
            owner_id,
            name: format!("{word}-{}", id - REPO_IDS),
            description,
            homepage,
            language,
            private: false,
            archived: self.one_in(10),
            disabled: false,
            has_issues: !self.one_in(8),
            has_projects: self.one_in(2),
            has_downloads: true,
            has_wiki: !self.one_in(3),
            has_pages: self.one_in(5),
            open_issues_count: self.rng.below(20) as i64,
            subscribers_count: self.rng.below(12) as i64,
            // From the id, not the generator, so that the graphs stay as they were.
            size: (id * 7_919).rem_euclid(90_001),
            created_at: timestamp(created),
            updated_at: timestamp(updated),
        };
        self.graph.repos.push(repo);
        id
    }

    fn star(&mut self, user_id: i64, repo_id: i64) {
        let at = self.moment(STARS_FROM, STARS_UNTIL);
        self.graph.stars.push((user_id, repo_id, timestamp(at)));
    }

    fn stargazer_count(&mut self, index: usize, repos: usize, max: usize) -> usize {
        if max >= 150 && index + 1 == repos {
            101 + self.rng.below(max - 100)
        } else if index == 0 {
            0
        } else {
            self.rng.below(max + 1)
        }
    }

    fn moment(&mut self, from: i64, until: i64) -> i64 {
        from + self.rng.below((until - from) as usize) as i64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.below(items.len())]
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.rng.below(n) == 0
    }
}

// ---------------------------------------------------------------------------------------------
// The fake and what tests see of it
// ---------------------------------------------------------------------------------------------

/// GitHub's REST and GraphQL APIs on a local port, answering from a `Graph`. Dropping it
/// stops the server.
pub struct FakeGitHub {
    /// The base URL, like `http://127.0.0.1:PORT`, with no `/api/v3` prefix.
    pub url: String,
    state: Shared,
    traffic: Arc<Traffic>,
    shutdown: Option<oneshot::Sender<()>>,
}

/// Requests in flight, what they may be, and how slowly they are answered.
#[derive(Default)]
struct Traffic {
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// More than this many at once get a secondary limit; 0 for no limit.
    limit: AtomicUsize,
    refused: AtomicUsize,
    latency_ms: AtomicU64,
}

/// A request as the fake received and answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: String,
    pub path_and_query: String,
    /// 0 when the connection was dropped instead.
    pub status: u16,
    /// Whether it spent quota.
    pub counted: bool,
    pub if_none_match: bool,
    pub authorized: bool,
    /// GraphQL points it spent.
    pub points: i64,
    /// GraphQL: the operation's name, and the type of the first error the answer carried.
    pub operation: Option<String>,
    pub graphql_error: Option<String>,
    /// What the quota the request was charged to (REST's or GraphQL's) had left after it.
    pub remaining: i64,
    /// A list's page answered in full where the list may end: a REST page with no next
    /// link, or a GraphQL query of pages. Its sync's next write may sweep.
    pub may_end_list: bool,
    /// GraphQL: the fields it asked at the top (ids, for `nodes`) but `rateLimit`, and the
    /// work they asked in all (`WorkLimit`'s measure).
    pub fields: usize,
    pub work: i64,
    /// The `X-GitHub-Api-Version` it named.
    pub api_version: Option<String>,
}

/// How often requests fail, and how. A request fails in at most one way.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Probability of a 502 with a JSON error body.
    pub server_error: f64,
    /// Probability of 200 headers and then a dropped connection.
    pub reset: f64,
    /// Probability of half the JSON body and then a dropped connection.
    pub truncated: f64,
    /// Probability of a 403 secondary rate limit with `Retry-After: 1`.
    pub secondary_limit: f64,
    /// Probability (GraphQL only) of a 200 whose error says "Something went wrong".
    pub went_wrong: f64,
    /// Seeds the draws, so a run of faults can be replayed.
    pub seed: u64,
}

impl FakeGitHub {
    pub async fn start(graph: Graph) -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake GitHub");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the fake GitHub's address")
        );
        let state: Shared = Arc::new(Mutex::new(FakeState::new(url.clone(), graph)));
        let traffic = Arc::new(Traffic::default());
        let router = Router::new()
            .route("/graphql", post(graphql::handler))
            .route("/app/installations", get(app::installations))
            .route(
                "/app/installations/{id}/access_tokens",
                post(app::access_token),
            )
            .route("/rate_limit", get(rate_limit))
            .route("/users/{login}", get(user_by_login))
            .route("/users/{login}/{list}", get(user_list_by_login))
            .route("/user/{id}", get(user_by_id))
            .route("/user/{id}/{list}", get(user_list_by_id))
            .route("/repos/{owner}/{name}", get(repo_by_name))
            .route("/repos/{owner}/{name}/stargazers", get(stargazers_by_name))
            .route(
                "/repos/{owner}/{name}/stargazers/history",
                get(star_history_by_name),
            )
            .route("/repositories/{id}", get(repo_by_id))
            .route("/repositories/{id}/stargazers", get(stargazers_by_id))
            .route(
                "/repositories/{id}/stargazers/history",
                get(star_history_by_id),
            )
            // Requests no route takes are answered (and recorded) as GitHub would: 404.
            .fallback(unknown)
            .method_not_allowed_fallback(unknown)
            .with_state(Arc::clone(&state))
            .layer(middleware::from_fn_with_state(
                Arc::clone(&traffic),
                in_flight,
            ));
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        FakeGitHub {
            url,
            state,
            traffic,
            shutdown: Some(shutdown),
        }
    }

    /// GraphQL points spent.
    pub fn points(&self) -> i64 {
        self.lock()
            .requests
            .iter()
            .map(|request| request.points)
            .sum()
    }

    /// The GraphQL quota, in points; as `set_quota`.
    pub fn set_graphql_quota(&self, limit: i64, remaining: i64, reset: i64) {
        self.lock().graphql_quota = Quota {
            limit,
            remaining,
            reset,
        };
    }

    pub fn graphql_remaining(&self) -> i64 {
        self.lock().graphql_quota.remaining
    }

    /// How long a quota window lasts once one resets (GitHub's is an hour).
    pub fn set_window(&self, window: Duration) {
        self.lock().window = window.as_secs() as i64;
    }

    /// From now on more than `limit` requests at once get a secondary limit, and every
    /// request takes `latency` to answer (so that overlapping ones do overlap).
    pub fn limit_in_flight(&self, limit: usize, latency: Duration) {
        self.traffic.limit.store(limit, Ordering::SeqCst);
        self.traffic
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    /// The most requests that were in flight at once, and how many were refused for it.
    pub fn in_flight_seen(&self) -> (usize, usize) {
        (
            self.traffic.most_in_flight.load(Ordering::SeqCst),
            self.traffic.refused.load(Ordering::SeqCst),
        )
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// How many answers were a list's page that may have been its last.
    pub fn list_ends(&self) -> usize {
        self.count(|request| request.may_end_list)
    }

    /// How many requests spent quota.
    pub fn counted(&self) -> usize {
        self.count(|request| request.counted)
    }

    fn count(&self, which: impl Fn(&Request) -> bool) -> usize {
        self.lock().requests.iter().filter(|r| which(r)).count()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// `reset` is in unix seconds. A reset time already past refills the quota at the next
    /// request, as on GitHub: to keep it exhausted, give a reset in the future.
    pub fn set_quota(&self, limit: i64, remaining: i64, reset: i64) {
        self.lock().quota = Quota {
            limit,
            remaining,
            reset,
        };
    }

    pub fn quota_remaining(&self) -> i64 {
        self.lock().quota.remaining
    }

    /// Also restarts the draws from `faults.seed`.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = self.lock();
        state.rng = Rng(faults.seed);
        state.faults = faults;
    }

    /// A copy of the ground truth, to compare what a sync stored with.
    pub fn graph(&self) -> Graph {
        self.lock().graph.clone()
    }

    /// Changes GitHub's data, as happens between two syncs.
    pub fn update_graph(&self, f: impl FnOnce(&mut Graph)) {
        let mut state = self.lock();
        f(&mut state.graph);
        state.reindex();
    }

    /// From now on the old login answers 301 towards the numeric-id paths.
    pub fn rename_user(&self, old_login: &str, new_login: &str) {
        let mut state = self.lock();
        let user = state
            .graph
            .users
            .iter_mut()
            .find(|user| user.login.eq_ignore_ascii_case(old_login))
            .unwrap_or_else(|| panic!("the fake GitHub has no user {old_login} to rename"));
        user.login = new_login.to_owned();
        let id = user.id;
        state.renamed.insert(old_login.to_ascii_lowercase(), id);
        state.reindex();
    }

    /// A login or an `owner/name`: answers 404 from now on, for the entity and its lists.
    pub fn mark_gone(&self, login_or_full_name: &str) {
        self.lock()
            .gone
            .insert(login_or_full_name.to_ascii_lowercase());
    }

    /// An `owner/name`: answers 451 from now on, for the repository and its stargazers.
    pub fn mark_blocked(&self, full_name: &str) {
        self.lock().blocked.insert(full_name.to_ascii_lowercase());
    }

    /// From now on stargazer lists are refused as `restrictions` say (the default: none).
    pub fn restrict_stargazers(&self, restrictions: Restrictions) {
        self.lock().restrictions = restrictions;
    }

    /// From now on GraphQL queries are held to `limit` (`None`: no limit).
    pub fn set_work_limit(&self, limit: Option<WorkLimit>) {
        self.lock().work_limit = limit;
    }

    /// GraphQL points spent on queries that timed out.
    pub fn points_lost(&self) -> i64 {
        let state = self.lock();
        let timed_out = state
            .requests
            .iter()
            .filter(|r| r.graphql_error.as_deref() == Some("TIMEOUT"));
        timed_out.map(|request| request.points).sum()
    }

    /// Beyond this page, stargazer lists answer 422 as GitHub's do for very long lists.
    pub fn set_stargazer_page_limit(&self, pages: Option<usize>) {
        self.lock().stargazer_page_limit = pages;
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        lock(&self.state)
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server may already have stopped with its runtime; then nothing is left to stop.
            let _ = shutdown.send(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

type Shared = Arc<Mutex<FakeState>>;

fn lock(shared: &Shared) -> MutexGuard<'_, FakeState> {
    shared.lock().expect("the fake GitHub's state")
}

struct FakeState {
    base: String,
    graph: Graph,
    index: Index,
    requests: Vec<Request>,
    quota: Quota,
    graphql_quota: Quota,
    /// Seconds a quota window lasts.
    window: i64,
    /// When set, only its installation tokens authorize a request.
    app: Option<app::App>,
    faults: Faults,
    rng: Rng,
    /// Lowercase old login → user id.
    renamed: HashMap<String, i64>,
    /// Lowercase logins and full names.
    gone: HashSet<String>,
    /// Lowercase full names.
    blocked: HashSet<String>,
    stargazer_page_limit: Option<usize>,
    restrictions: Restrictions,
    work_limit: Option<WorkLimit>,
}

/// (position in `Graph::users`, starred_at)
type Gazer = (usize, String);
/// (position in `Graph::repos`, its owner's position in `Graph::users`, starred_at)
type Star = (usize, usize, String);

/// The graph's lookups without its scans, which would make a page of a user with 50,000
/// followers cost 50,000 × 50,000 steps. It holds positions into `Graph::users` and
/// `Graph::repos`, so it is rebuilt whenever the graph changes. Where a key repeats, the first
/// user or repository wins, as with `Graph::user`.
struct Index {
    user_by_id: HashMap<i64, usize>,
    /// Lowercase, as logins compare ignoring ASCII case.
    user_by_login: HashMap<String, usize>,
    repo_by_id: HashMap<i64, usize>,
    /// (owner id, lowercase name)
    repo_by_name: HashMap<(i64, String), usize>,
    /// In the orders of `Graph::followers_of`, `following_of`, `repos_of`, `stargazers_of` and
    /// `starred_by`.
    followers: Lists<usize>,
    following: Lists<usize>,
    repos: Lists<usize>,
    stargazers: Lists<Gazer>,
    starred: Lists<Star>,
}

impl Index {
    fn new(graph: &Graph) -> Index {
        let mut user_by_id = HashMap::new();
        let mut user_by_login = HashMap::new();
        for (at, user) in graph.users.iter().enumerate() {
            user_by_id.entry(user.id).or_insert(at);
            user_by_login
                .entry(user.login.to_ascii_lowercase())
                .or_insert(at);
        }
        let mut repo_by_id = HashMap::new();
        let mut repo_by_name = HashMap::new();
        for (at, repo) in graph.repos.iter().enumerate() {
            repo_by_id.entry(repo.id).or_insert(at);
            repo_by_name
                .entry((repo.owner_id, repo.name.to_ascii_lowercase()))
                .or_insert(at);
        }

        let user_at = |id: i64| user_by_id.get(&id).copied();
        let by_followee = graph.follows.iter().map(|&(from, to)| (to, from));
        let followers = Lists::new(by_followee, ascending, user_at);
        let following = Lists::new(graph.follows.iter().copied(), ascending, user_at);
        let by_owner = graph
            .repos
            .iter()
            .enumerate()
            .map(|(at, repo)| (repo.owner_id, at));
        let by_id = |mut owned: Vec<usize>| {
            // Stable, as `Graph::repos_of`'s sort is.
            owned.sort_by_key(|&at| graph.repos[at].id);
            owned
        };
        let repos = Lists::new(by_owner, by_id, Some);
        let by_repo = graph
            .stars
            .iter()
            .map(|(user, repo, at)| (*repo, (*user, at.clone())));
        let stargazers = Lists::new(by_repo, by_time, |(user, at)| Some((user_at(user)?, at)));
        let by_user = graph
            .stars
            .iter()
            .map(|(user, repo, at)| (*user, (*repo, at.clone())));
        let starred = Lists::new(by_user, by_time, |(repo, at)| {
            let repo = *repo_by_id.get(&repo)?;
            Some((repo, user_at(graph.repos[repo].owner_id)?, at))
        });
        Index {
            user_by_id,
            user_by_login,
            repo_by_id,
            repo_by_name,
            followers,
            following,
            repos,
            stargazers,
            starred,
        }
    }
}

/// One list per user or repository id; an id without one has an empty list.
struct Lists<T>(HashMap<i64, List<T>>);

/// Edges may outlive the users and repositories they name when a test removes one: pages skip
/// those, but GitHub's counts still count them.
struct List<T> {
    items: Vec<T>,
    edges: usize,
}

impl<T> Lists<T> {
    /// From (id, edge) pairs in the graph's order: `order` puts one id's edges in its list's
    /// order and `resolve` finds what an edge names.
    fn new<E>(
        pairs: impl Iterator<Item = (i64, E)>,
        order: impl Fn(Vec<E>) -> Vec<E>,
        resolve: impl Fn(E) -> Option<T>,
    ) -> Lists<T> {
        let mut grouped: HashMap<i64, Vec<E>> = HashMap::new();
        for (id, edge) in pairs {
            grouped.entry(id).or_default().push(edge);
        }
        let lists = grouped
            .into_iter()
            .map(|(id, group)| {
                let group = order(group);
                let edges = group.len();
                let items: Vec<T> = group.into_iter().filter_map(&resolve).collect();
                (id, List { items, edges })
            })
            .collect();
        Lists(lists)
    }

    fn items(&self, id: i64) -> &[T] {
        self.0
            .get(&id)
            .map(|list| list.items.as_slice())
            .unwrap_or_default()
    }

    fn edges(&self, id: i64) -> usize {
        self.0.get(&id).map_or(0, |list| list.edges)
    }
}

/// The primary rate limit's window.
struct Quota {
    limit: i64,
    remaining: i64,
    /// Unix seconds.
    reset: i64,
}

impl Quota {
    /// GitHub starts a full window, `window` seconds long, once the reset time has come.
    fn refill(&mut self, now: i64, window: i64) {
        if now >= self.reset {
            self.remaining = self.limit;
            self.reset = now + window;
        }
    }

    fn used(&self) -> i64 {
        self.limit - self.remaining
    }
}

/// What an answer depends on in a request.
#[derive(Clone)]
struct Incoming {
    method: String,
    path_and_query: String,
    query: Option<String>,
    authorized: bool,
    /// The token after `Bearer ` (or `token `).
    bearer: Option<String>,
    if_none_match: Option<String>,
    api_version: Option<String>,
    /// Star lists then carry `starred_at`.
    stars: bool,
    page: usize,
    per_page: usize,
}

impl Incoming {
    fn read(request: &HttpRequest) -> Incoming {
        let uri = request.uri();
        let headers = request.headers();
        let number = |key: &str| {
            form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .find(|(name, _)| name == key)
                .and_then(|(_, value)| value.parse::<usize>().ok())
                .filter(|&n| n > 0)
        };
        let accept = headers
            .get(ACCEPT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        Incoming {
            method: request.method().to_string(),
            path_and_query: uri.path_and_query().map_or_else(
                || uri.path().to_owned(),
                |path_and_query| path_and_query.as_str().to_owned(),
            ),
            query: uri.query().map(str::to_owned),
            authorized: headers.contains_key(AUTHORIZATION),
            bearer: headers
                .get(AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| {
                    value
                        .strip_prefix("Bearer ")
                        .or_else(|| value.strip_prefix("token "))
                })
                .map(str::to_owned),
            if_none_match: headers
                .get(IF_NONE_MATCH)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            api_version: headers
                .get("x-github-api-version")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            stars: accept.contains("application/vnd.github.star+json")
                || accept.contains("application/vnd.github.v3.star+json"),
            page: number("page").unwrap_or(1),
            per_page: number("per_page").map_or(30, |n| n.min(100)),
        }
    }
}

/// What was asked for, before it is looked up.
enum Resource {
    User(UserKey),
    UserList(UserKey, String),
    Repo(RepoKey),
    Stargazers(RepoKey),
    StarHistory(RepoKey),
    Unknown,
}

/// Path segments as received: numeric ids are parsed at lookup, where junk means 404.
enum UserKey {
    Login(String),
    Id(String),
}

enum RepoKey {
    Name(String, String),
    Id(String),
}

#[derive(Clone, Copy)]
enum UserList {
    Followers,
    Following,
    Repos,
    Starred,
}

impl UserList {
    fn parse(name: &str) -> Option<UserList> {
        match name {
            "followers" => Some(UserList::Followers),
            "following" => Some(UserList::Following),
            "repos" => Some(UserList::Repos),
            "starred" => Some(UserList::Starred),
            _ => None,
        }
    }
}

enum Found<T> {
    Here(T),
    /// Renamed: the id that still works.
    Moved(i64),
    Blocked,
    Missing,
}

enum Fault {
    ServerError,
    Reset,
    Truncated,
    SecondaryLimit,
}

/// An answer before the quota, faults and conditional requests have their say.
struct Reply {
    status: StatusCode,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
        }
    }

    fn ok(body: Value) -> Reply {
        Reply::new(StatusCode::OK, body)
    }

    fn not_found() -> Reply {
        Reply::new(StatusCode::NOT_FOUND, error_body("Not Found"))
    }

    fn moved(location: String) -> Reply {
        let body =
            json!({"message": "Moved Permanently", "url": location, "documentation_url": DOCS});
        Reply {
            status: StatusCode::MOVED_PERMANENTLY,
            body,
            headers: vec![("location", location)],
        }
    }

    fn last_modified(mut self, updated_at: &str) -> Reply {
        self.headers
            .extend(http_date(updated_at).map(|date| ("last-modified", date)));
        self
    }
}

/// A response and how to record it.
struct Outcome {
    response: Response,
    counted: bool,
    dropped: bool,
    points: i64,
    operation: Option<String>,
    graphql_error: Option<String>,
    /// GraphQL: top-level fields (or ids) and their work.
    fields: usize,
    work: i64,
}

impl Outcome {
    fn free(response: Response) -> Outcome {
        Outcome {
            response,
            counted: false,
            dropped: false,
            points: 0,
            operation: None,
            graphql_error: None,
            fields: 0,
            work: 0,
        }
    }

    fn spent(response: Response) -> Outcome {
        Outcome {
            counted: true,
            ..Outcome::free(response)
        }
    }

    fn dropped(response: Response) -> Outcome {
        Outcome {
            dropped: true,
            ..Outcome::free(response)
        }
    }

    /// A GraphQL answer that cost `points`.
    fn points(response: Response, points: i64) -> Outcome {
        Outcome {
            points,
            ..Outcome::free(response)
        }
    }
}

const JSON_TYPE: &str = "application/json; charset=utf-8";
const DOCS: &str = "https://docs.github.com/rest";
const RATE_LIMIT_EXCEEDED: &str = "API rate limit exceeded for user ID 1.";
const SECONDARY_LIMIT: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
const PAGINATION_LIMITED: &str = "In order to keep the API fast for everyone, pagination is limited for this resource. \
     Check the rel=last link relation in the Link response header to see how far back you can traverse.";

impl FakeState {
    fn new(base: String, graph: Graph) -> FakeState {
        let faults = Faults::default();
        FakeState {
            base,
            index: Index::new(&graph),
            graph,
            requests: Vec::new(),
            quota: Quota {
                limit: 5000,
                remaining: 5000,
                reset: Utc::now().timestamp() + 3600,
            },
            graphql_quota: Quota {
                limit: 5000,
                remaining: 5000,
                reset: Utc::now().timestamp() + 3600,
            },
            window: 3600,
            app: None,
            rng: Rng(faults.seed),
            faults,
            renamed: HashMap::new(),
            gone: HashSet::new(),
            blocked: HashSet::new(),
            stargazer_page_limit: None,
            restrictions: Restrictions::default(),
            work_limit: None,
        }
    }

    /// Positions in the index go stale with any change to the graph.
    fn reindex(&mut self) {
        self.index = Index::new(&self.graph);
    }

    /// By login, ignoring ASCII case as GitHub does.
    fn user_named(&self, login: &str) -> Option<&User> {
        let at = self.index.user_by_login.get(&login.to_ascii_lowercase())?;
        Some(&self.graph.users[*at])
    }

    fn user_by_id(&self, id: i64) -> Option<&User> {
        let at = self.index.user_by_id.get(&id)?;
        Some(&self.graph.users[*at])
    }

    fn repo_named(&self, owner_id: i64, name: &str) -> Option<&Repo> {
        let key = (owner_id, name.to_ascii_lowercase());
        let at = self.index.repo_by_name.get(&key)?;
        Some(&self.graph.repos[*at])
    }

    fn repo_by_id(&self, id: i64) -> Option<&Repo> {
        let at = self.index.repo_by_id.get(&id)?;
        Some(&self.graph.repos[*at])
    }

    /// GitHub's order of concerns: a fault can strike any request; an authorized request
    /// answered 304 costs nothing, so it is served even with no quota left; anything else
    /// needs quota and spends it.
    fn answer(&mut self, incoming: &Incoming, resource: Resource) -> Outcome {
        let fault = self.draw_fault();
        let reply = self.resolve(incoming, resource);
        let body = encode(&reply.body);
        if let Some(fault) = fault {
            return self.faulted(fault, &body);
        }
        let etag = (reply.status == StatusCode::OK).then(|| etag(&body));
        let fresh = etag
            .as_deref()
            .zip(incoming.if_none_match.as_deref())
            .is_some_and(|(etag, wanted)| names_etag(wanted, etag));
        if fresh && incoming.authorized {
            return Outcome::free(self.not_modified(etag));
        }
        if self.quota.remaining <= 0 {
            let body = error_body(RATE_LIMIT_EXCEEDED);
            return Outcome::free(self.json(StatusCode::FORBIDDEN, encode(&body), Vec::new()));
        }
        self.quota.remaining -= 1;
        if fresh {
            return Outcome::spent(self.not_modified(etag));
        }
        let mut headers = reply.headers;
        headers.extend(etag.map(|etag| ("etag", etag)));
        Outcome::spent(self.json(reply.status, body, headers))
    }

    fn draw_fault(&mut self) -> Option<Fault> {
        let roll = self.rng.unit();
        let faults = &self.faults;
        let mut edge = 0.0;
        [
            (faults.server_error, Fault::ServerError),
            (faults.reset, Fault::Reset),
            (faults.truncated, Fault::Truncated),
            (faults.secondary_limit, Fault::SecondaryLimit),
        ]
        .into_iter()
        .find(|(probability, _)| {
            edge += probability;
            roll < edge
        })
        .map(|(_, fault)| fault)
    }

    fn faulted(&self, fault: Fault, body: &[u8]) -> Outcome {
        match fault {
            Fault::ServerError => {
                let body = error_body("Server Error");
                Outcome::free(self.json(StatusCode::BAD_GATEWAY, encode(&body), Vec::new()))
            }
            Fault::Reset => Outcome::dropped(self.broken(Vec::new())),
            Fault::Truncated => Outcome::dropped(self.broken(body[..body.len() / 2].to_vec())),
            Fault::SecondaryLimit => {
                let body = error_body(SECONDARY_LIMIT);
                let headers = vec![("retry-after", "1".to_owned())];
                Outcome::free(self.json(StatusCode::FORBIDDEN, encode(&body), headers))
            }
        }
    }

    fn resolve(&self, incoming: &Incoming, resource: Resource) -> Reply {
        let base = &self.base;
        match resource {
            Resource::User(key) => match self.find_user(&key) {
                Found::Here(user) => {
                    Reply::ok(self.full_user(user)).last_modified(&user.updated_at)
                }
                Found::Moved(id) => Reply::moved(format!("{base}/user/{id}")),
                _ => Reply::not_found(),
            },
            Resource::UserList(key, name) => {
                let Some(list) = UserList::parse(&name) else {
                    return Reply::not_found();
                };
                match self.find_user(&key) {
                    Found::Here(user) => self.user_list(incoming, user, list, &name),
                    Found::Moved(id) => {
                        Reply::moved(with_query(format!("{base}/user/{id}/{name}"), incoming))
                    }
                    _ => Reply::not_found(),
                }
            }
            Resource::Repo(key) => match self.find_repo(&key) {
                Found::Here((repo, owner)) => {
                    Reply::ok(self.full_repo(repo, owner, incoming.authorized))
                        .last_modified(&repo.updated_at)
                }
                Found::Moved(id) => Reply::moved(format!("{base}/repositories/{id}")),
                Found::Blocked => self.blocked(),
                Found::Missing => Reply::not_found(),
            },
            Resource::Stargazers(key) => {
                self.under_repo(incoming, &key, "stargazers", Self::stargazers)
            }
            Resource::StarHistory(key) => {
                self.under_repo(incoming, &key, "stargazers/history", Self::star_history)
            }
            Resource::Unknown => Reply::not_found(),
        }
    }

    /// What `answer` says of the repository `key` names, at its `path`: moved, blocked and
    /// missing repositories answer as their own page does.
    fn under_repo(
        &self,
        incoming: &Incoming,
        key: &RepoKey,
        path: &str,
        answer: fn(&Self, &Incoming, &Repo) -> Reply,
    ) -> Reply {
        match self.find_repo(key) {
            Found::Here((repo, _)) => answer(self, incoming, repo),
            Found::Moved(id) => Reply::moved(with_query(
                format!("{}/repositories/{id}/{path}", self.base),
                incoming,
            )),
            Found::Blocked => self.blocked(),
            Found::Missing => Reply::not_found(),
        }
    }

    /// The repository's weeks of stars, newest first, 30 a page at most; no stargazer is
    /// named, so no restriction applies.
    fn star_history(&self, incoming: &Incoming, repo: &Repo) -> Reply {
        let starred = self
            .index
            .stargazers
            .items(repo.id)
            .iter()
            .map(|(_, at)| at.as_str());
        let weeks = star_history::weeks(starred, Utc::now().timestamp());
        let incoming = Incoming {
            per_page: incoming.per_page.min(star_history::WEEKS_A_PAGE),
            ..incoming.clone()
        };
        if incoming.page > star_history::PAGES {
            return Reply::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                error_body(PAGINATION_LIMITED),
            );
        }
        let link = format!("{}/repositories/{}/stargazers/history", self.base, repo.id);
        paginate(
            &incoming,
            &link,
            &weeks,
            Some(star_history::PAGES),
            star_history::Week::json,
        )
    }

    /// A current login wins over an old one, as when someone takes a login a rename freed.
    fn find_user(&self, key: &UserKey) -> Found<&User> {
        let user = match key {
            UserKey::Login(login) => match self.user_named(login) {
                Some(user) => user,
                None => {
                    return match self.renamed.get(&login.to_ascii_lowercase()) {
                        Some(&id) => Found::Moved(id),
                        None => Found::Missing,
                    };
                }
            },
            UserKey::Id(id) => match id.parse().ok().and_then(|id| self.user_by_id(id)) {
                Some(user) => user,
                None => return Found::Missing,
            },
        };
        if self.is_gone(user) {
            Found::Missing
        } else {
            Found::Here(user)
        }
    }

    fn is_gone(&self, user: &User) -> bool {
        self.gone.contains(&user.login.to_ascii_lowercase())
    }

    /// A repository goes with its owner: renamed, it moves; gone, it is gone.
    fn find_repo(&self, key: &RepoKey) -> Found<(&Repo, &User)> {
        let (repo, owner) = match key {
            RepoKey::Name(owner, name) => {
                let Some(owner) = self.user_named(owner) else {
                    let moved = self
                        .renamed
                        .get(&owner.to_ascii_lowercase())
                        .and_then(|&id| self.repo_named(id, name));
                    return match moved {
                        Some(repo) => Found::Moved(repo.id),
                        None => Found::Missing,
                    };
                };
                match self.repo_named(owner.id, name) {
                    Some(repo) => (repo, owner),
                    None => return Found::Missing,
                }
            }
            RepoKey::Id(id) => {
                let found = id
                    .parse()
                    .ok()
                    .and_then(|id| self.repo_by_id(id))
                    .and_then(|repo| Some((repo, self.user_by_id(repo.owner_id)?)));
                match found {
                    Some(pair) => pair,
                    None => return Found::Missing,
                }
            }
        };
        let full_name = format!("{}/{}", owner.login, repo.name).to_ascii_lowercase();
        if self.gone.contains(&full_name) || self.gone.contains(&owner.login.to_ascii_lowercase()) {
            Found::Missing
        } else if self.blocked.contains(&full_name) {
            Found::Blocked
        } else {
            Found::Here((repo, owner))
        }
    }

    fn user_list(&self, incoming: &Incoming, user: &User, list: UserList, name: &str) -> Reply {
        let (index, users, repos) = (&self.index, &self.graph.users, &self.graph.repos);
        let link = format!("{}/user/{}/{name}", self.base, user.id);
        let person = |&at: &usize| self.simple_user(&users[at]);
        match list {
            UserList::Followers => {
                let followers = index.followers.items(user.id);
                paginate(incoming, &link, followers, None, person)
            }
            UserList::Following => {
                let following = index.following.items(user.id);
                paginate(incoming, &link, following, None, person)
            }
            UserList::Repos => {
                let owned = index.repos.items(user.id);
                paginate(incoming, &link, owned, None, |&at| {
                    self.list_repo(&repos[at], user, incoming.authorized)
                })
            }
            UserList::Starred => {
                let starred = index.starred.items(user.id);
                paginate(incoming, &link, starred, None, |(repo, owner, at)| {
                    let repo = self.list_repo(&repos[*repo], &users[*owner], incoming.authorized);
                    if incoming.stars {
                        json!({"starred_at": at, "repo": repo})
                    } else {
                        repo
                    }
                })
            }
        }
    }

    fn stargazers(&self, incoming: &Incoming, repo: &Repo) -> Reply {
        match self.restrictions.rest_for(repo.id) {
            Some(limits::RestRefusal::Forbidden) => {
                let mut reply =
                    Reply::new(StatusCode::FORBIDDEN, error_body(limits::NOT_ACCESSIBLE));
                let permissions = "metadata=read; contents=write".to_owned();
                reply
                    .headers
                    .push(("x-accepted-github-permissions", permissions));
                return reply;
            }
            Some(limits::RestRefusal::NotFound) => return Reply::not_found(),
            Some(limits::RestRefusal::Empty) => return Reply::ok(json!([])),
            None => {}
        }
        if self
            .stargazer_page_limit
            .is_some_and(|limit| incoming.page > limit)
        {
            return Reply::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                error_body(PAGINATION_LIMITED),
            );
        }
        let link = format!("{}/repositories/{}/stargazers", self.base, repo.id);
        paginate(
            incoming,
            &link,
            self.index.stargazers.items(repo.id),
            self.stargazer_page_limit,
            |(user, at)| {
                let user = self.simple_user(&self.graph.users[*user]);
                if incoming.stars {
                    json!({"starred_at": at, "user": user})
                } else {
                    user
                }
            },
        )
    }

    fn blocked(&self) -> Reply {
        let body = json!({
            "message": "Repository access blocked",
            "block": {
                "reason": "dmca",
                "created_at": "2020-06-01T00:00:00Z",
                "html_url": format!("{}/dmca-notice", self.base),
            },
        });
        Reply::new(StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS, body)
    }

    // --- JSON in GitHub's shapes --------------------------------------------------------------

    /// A user as lists show them: identity and links, no profile and no counts.
    fn simple_user(&self, user: &User) -> Value {
        let api = format!("{}/users/{}", self.base, user.login);
        let head = json!({
            "login": user.login,
            "id": user.id,
            "node_id": node_id(user),
            "avatar_url": format!("{}/avatars/u/{}?v=4", self.base, user.id),
            "gravatar_id": "",
            "url": api,
            "html_url": format!("{}/{}", self.base, user.login),
        });
        let kind = if user.organization {
            "Organization"
        } else {
            "User"
        };
        let tail = json!({"type": kind, "site_admin": false});
        merge(merge(head, links(&api, USER_LINKS)), tail)
    }

    fn full_user(&self, user: &User) -> Value {
        let profile = json!({
            "name": user.name,
            "company": user.company,
            "blog": "",
            "location": user.location,
            "email": user.email,
            "hireable": null,
            "bio": user.bio,
            "twitter_username": null,
            "public_repos": self.index.repos.edges(user.id),
            "public_gists": user.public_gists,
            "followers": self.index.followers.edges(user.id),
            "following": self.index.following.edges(user.id),
            "created_at": user.created_at,
            "updated_at": user.updated_at,
        });
        merge(self.simple_user(user), profile)
    }

    /// A repository as lists show it: without `subscribers_count` and `network_count`.
    fn list_repo(&self, repo: &Repo, owner: &User, authorized: bool) -> Value {
        let full_name = format!("{}/{}", owner.login, repo.name);
        let api = format!("{}/repos/{full_name}", self.base);
        let html = format!("{}/{full_name}", self.base);
        let host = self.base.trim_start_matches("http://");
        let stars = self.index.stargazers.edges(repo.id);
        let head = json!({
            "id": repo.id,
            "node_id": legacy_node_id("010:Repository", repo.id),
            "name": repo.name,
            "full_name": full_name,
            "private": repo.private,
            "owner": self.simple_user(owner),
            "html_url": html,
            "description": repo.description,
            "fork": false,
            "url": api,
        });
        let places = json!({
            "created_at": repo.created_at,
            "updated_at": repo.updated_at,
            "pushed_at": repo.updated_at,
            "git_url": format!("git://{host}/{full_name}.git"),
            "ssh_url": format!("git@{host}:{full_name}.git"),
            "clone_url": format!("{html}.git"),
            "svn_url": html,
            "homepage": repo.homepage,
        });
        let counts = json!({
            "size": repo.size,
            "stargazers_count": stars,
            "watchers_count": stars,
            "language": repo.language,
            "has_issues": repo.has_issues,
            "has_projects": repo.has_projects,
            "has_downloads": repo.has_downloads,
            "has_wiki": repo.has_wiki,
            "has_pages": repo.has_pages,
            "forks_count": 0,
            "mirror_url": null,
            "archived": repo.archived,
            "disabled": repo.disabled,
            "open_issues_count": repo.open_issues_count,
            "license": null,
            "forks": 0,
            "open_issues": repo.open_issues_count,
            "watchers": stars,
            "default_branch": "main",
        });
        let object = merge(merge(merge(head, links(&api, REPO_LINKS)), places), counts);
        if authorized {
            // GitHub tells an authenticated caller what it may do: read, or administer
            // where the restrictions make the credential an admin.
            let admin = self.restrictions.readable.contains(&repo.id);
            merge(
                object,
                json!({"permissions": {
                    "admin": admin, "maintain": admin, "push": admin, "triage": admin,
                    "pull": true,
                }}),
            )
        } else {
            object
        }
    }

    fn full_repo(&self, repo: &Repo, owner: &User, authorized: bool) -> Value {
        let mut object = self.list_repo(repo, owner, authorized);
        if authorized {
            object = merge(object, json!({"temp_clone_token": ""}));
        }
        merge(
            object,
            json!({"network_count": 0, "subscribers_count": repo.subscribers_count}),
        )
    }

    fn rate_limit_body(&self) -> Value {
        let quota = &self.quota;
        let core = json!({
            "limit": quota.limit,
            "remaining": quota.remaining,
            "reset": quota.reset,
            "used": quota.used(),
        });
        json!({
            "resources": {
                "core": core,
                "search": {"limit": 30, "remaining": 30, "reset": quota.reset, "used": 0},
                "graphql": {
                    "limit": self.graphql_quota.limit,
                    "remaining": self.graphql_quota.remaining,
                    "reset": self.graphql_quota.reset,
                    "used": self.graphql_quota.used(),
                },
            },
            "rate": core,
        })
    }

    // --- Responses ----------------------------------------------------------------------------

    fn json(
        &self,
        status: StatusCode,
        body: Vec<u8>,
        mut headers: Vec<(&'static str, String)>,
    ) -> Response {
        headers.push(("content-type", JSON_TYPE.to_owned()));
        self.response(status, Body::from(body), headers)
    }

    fn not_modified(&self, etag: Option<String>) -> Response {
        let headers = etag.map(|etag| ("etag", etag)).into_iter().collect();
        self.response(StatusCode::NOT_MODIFIED, Body::empty(), headers)
    }

    /// 200 and maybe the start of a body, then an I/O error: hyper abandons the connection
    /// mid-response, which the client sees as a reset connection or a cut-off body.
    fn broken(&self, prefix: Vec<u8>) -> Response {
        let mut chunks = Vec::new();
        if !prefix.is_empty() {
            chunks.push(Ok(Bytes::from(prefix)));
        }
        chunks.push(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the fake GitHub dropped the connection",
        )));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        self.response(
            StatusCode::OK,
            body,
            vec![("content-type", JSON_TYPE.to_owned())],
        )
    }

    /// Every answer carries the quota as it stands after the request.
    fn response(
        &self,
        status: StatusCode,
        body: Body,
        headers: Vec<(&'static str, String)>,
    ) -> Response {
        answer_with_quota(status, body, headers, &self.quota, "core")
    }

    /// Both windows start anew once their reset time has come.
    fn refill(&mut self) {
        let now = Utc::now().timestamp();
        self.quota.refill(now, self.window);
        self.graphql_quota.refill(now, self.window);
    }

    fn record(&mut self, incoming: Incoming, outcome: Outcome) -> Response {
        let remaining = if incoming.path_and_query.starts_with("/graphql") {
            self.graphql_quota.remaining
        } else {
            self.quota.remaining
        };
        let may_end_list = !outcome.dropped
            && outcome.response.status() == StatusCode::OK
            && may_end_list(&incoming.path_and_query, &outcome);
        self.requests.push(Request {
            may_end_list,
            method: incoming.method,
            path_and_query: incoming.path_and_query,
            status: if outcome.dropped {
                0
            } else {
                outcome.response.status().as_u16()
            },
            counted: outcome.counted,
            if_none_match: incoming.if_none_match.is_some(),
            authorized: incoming.authorized,
            points: outcome.points,
            remaining,
            operation: outcome.operation,
            graphql_error: outcome.graphql_error,
            fields: outcome.fields,
            work: outcome.work,
            api_version: incoming.api_version,
        });
        outcome.response
    }
}

/// Whether a successful answer is a list's page that may be its last.
fn may_end_list(path_and_query: &str, outcome: &Outcome) -> bool {
    if outcome.operation.as_deref() == Some("Pages") {
        return true;
    }
    let path = path_and_query.split('?').next().unwrap_or_default();
    let list = [
        "/followers",
        "/following",
        "/starred",
        "/repos",
        "/stargazers",
    ]
    .iter()
    .any(|end| path.ends_with(end));
    let next = outcome
        .response
        .headers()
        .get("link")
        .and_then(|link| link.to_str().ok())
        .is_some_and(|link| link.contains("rel=\"next\""));
    list && !next
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// Asking about the quota neither spends it nor ever fails.
async fn rate_limit(State(fake): State<Shared>, request: HttpRequest) -> Response {
    let incoming = Incoming::read(&request);
    let mut state = lock(&fake);
    state.refill();
    let response = state.json(StatusCode::OK, encode(&state.rate_limit_body()), Vec::new());
    state.record(incoming, Outcome::free(response))
}

fn handle(fake: &Shared, request: &HttpRequest, resource: Resource) -> Response {
    let incoming = Incoming::read(request);
    let mut state = lock(fake);
    state.refill();
    if let Some(refused) = state.unauthorized(&incoming) {
        return state.record(incoming, Outcome::free(refused));
    }
    let outcome = state.answer(&incoming, resource);
    state.record(incoming, outcome)
}

/// Counts the requests in flight; past the limit they get a secondary limit at once, the
/// others are answered after the latency.
async fn in_flight(
    State(traffic): State<Arc<Traffic>>,
    request: HttpRequest,
    next: Next,
) -> Response {
    let now = traffic.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    traffic.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let limit = traffic.limit.load(Ordering::SeqCst);
    let response = if limit > 0 && now > limit {
        traffic.refused.fetch_add(1, Ordering::SeqCst);
        let mut response = Response::new(Body::from(encode(&error_body(SECONDARY_LIMIT))));
        *response.status_mut() = StatusCode::FORBIDDEN;
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        response
    } else {
        let latency = traffic.latency_ms.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(latency)).await;
        next.run(request).await
    };
    traffic.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn user_by_login(
    State(fake): State<Shared>,
    Path(login): Path<String>,
    request: HttpRequest,
) -> Response {
    handle(&fake, &request, Resource::User(UserKey::Login(login)))
}

async fn user_list_by_login(
    State(fake): State<Shared>,
    Path((login, list)): Path<(String, String)>,
    request: HttpRequest,
) -> Response {
    handle(
        &fake,
        &request,
        Resource::UserList(UserKey::Login(login), list),
    )
}

async fn user_by_id(
    State(fake): State<Shared>,
    Path(id): Path<String>,
    request: HttpRequest,
) -> Response {
    handle(&fake, &request, Resource::User(UserKey::Id(id)))
}

async fn user_list_by_id(
    State(fake): State<Shared>,
    Path((id, list)): Path<(String, String)>,
    request: HttpRequest,
) -> Response {
    handle(&fake, &request, Resource::UserList(UserKey::Id(id), list))
}

async fn repo_by_name(
    State(fake): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    request: HttpRequest,
) -> Response {
    handle(&fake, &request, Resource::Repo(RepoKey::Name(owner, name)))
}

async fn stargazers_by_name(
    State(fake): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    request: HttpRequest,
) -> Response {
    handle(
        &fake,
        &request,
        Resource::Stargazers(RepoKey::Name(owner, name)),
    )
}

async fn star_history_by_name(
    State(fake): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    request: HttpRequest,
) -> Response {
    let key = RepoKey::Name(owner, name);
    handle(&fake, &request, Resource::StarHistory(key))
}

async fn star_history_by_id(
    State(fake): State<Shared>,
    Path(id): Path<String>,
    request: HttpRequest,
) -> Response {
    handle(&fake, &request, Resource::StarHistory(RepoKey::Id(id)))
}

async fn repo_by_id(
    State(fake): State<Shared>,
    Path(id): Path<String>,
    request: HttpRequest,
) -> Response {
    handle(&fake, &request, Resource::Repo(RepoKey::Id(id)))
}

async fn stargazers_by_id(
    State(fake): State<Shared>,
    Path(id): Path<String>,
    request: HttpRequest,
) -> Response {
    handle(&fake, &request, Resource::Stargazers(RepoKey::Id(id)))
}

async fn unknown(State(fake): State<Shared>, request: HttpRequest) -> Response {
    handle(&fake, &request, Resource::Unknown)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A response carrying `quota` (of `resource`) as it stands after the request.
fn answer_with_quota(
    status: StatusCode,
    body: Body,
    headers: Vec<(&'static str, String)>,
    quota: &Quota,
    resource: &str,
) -> Response {
    let rate = [
        ("x-ratelimit-limit", quota.limit.to_string()),
        ("x-ratelimit-remaining", quota.remaining.to_string()),
        ("x-ratelimit-reset", quota.reset.to_string()),
        ("x-ratelimit-used", quota.used().to_string()),
        ("x-ratelimit-resource", resource.to_owned()),
    ];
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in rate.into_iter().chain(headers) {
        let value = HeaderValue::from_str(&value).expect("a valid header value");
        response.headers_mut().insert(name, value);
    }
    response
}

const USER_LINKS: &[(&str, &str)] = &[
    ("followers_url", "/followers"),
    ("following_url", "/following{/other_user}"),
    ("gists_url", "/gists{/gist_id}"),
    ("starred_url", "/starred{/owner}{/repo}"),
    ("subscriptions_url", "/subscriptions"),
    ("organizations_url", "/orgs"),
    ("repos_url", "/repos"),
    ("events_url", "/events{/privacy}"),
    ("received_events_url", "/received_events"),
];

const REPO_LINKS: &[(&str, &str)] = &[
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    (
        "notifications_url",
        "/notifications{?since,all,participating}",
    ),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
];

/// The `*_url` fields GitHub derives from an object's API URL.
fn links(api: &str, table: &[(&str, &str)]) -> Value {
    Value::Object(
        table
            .iter()
            .map(|(key, suffix)| ((*key).to_owned(), Value::String(format!("{api}{suffix}"))))
            .collect(),
    )
}

/// Objects are built in parts because one large `json!` exceeds the macro recursion limit;
/// fields keep their order (serde_json's `preserve_order`).
fn merge(mut object: Value, more: Value) -> Value {
    if let (Value::Object(object), Value::Object(more)) = (&mut object, more) {
        object.extend(more);
    }
    object
}

/// A user's or organization's node id.
fn node_id(user: &User) -> String {
    let tag = if user.organization {
        "012:Organization"
    } else {
        "04:User"
    };
    legacy_node_id(tag, user.id)
}

/// GitHub's legacy node ids: base64 of "<type tag><id>".
fn legacy_node_id(tag: &str, id: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{tag}{id}"))
}

fn error_body(message: &str) -> Value {
    json!({"message": message, "documentation_url": DOCS})
}

fn encode(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON serializes")
}

/// A weak validator from the body's FNV-1a hash: equal bodies, equal tags.
fn etag(body: &[u8]) -> String {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("W/\"{hash:016x}\"")
}

/// `If-None-Match` may list several tags; the comparison is weak, so `W/` does not matter.
fn names_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .any(|tag| tag.trim() == "*" || weak(tag) == weak(etag))
}

fn weak(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// RFC 3339 → the RFC 7231 date of `Last-Modified`.
fn http_date(rfc3339: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(rfc3339).ok().map(|time| {
        time.to_utc()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    })
}

/// Unix seconds → GitHub's RFC 3339 form, "2020-10-01T12:00:00Z".
fn timestamp(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .expect("a time chrono can represent")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn with_query(url: String, incoming: &Incoming) -> String {
    match &incoming.query {
        Some(query) => format!("{url}?{query}"),
        None => url,
    }
}

/// One page of `items` and the `Link` header to its neighbours at `link`, GitHub's numeric-id
/// form of the list. `last_cap` is how far GitHub lets the list be paged: `rel="last"` stops
/// there but, as on GitHub, `rel="next"` does not.
fn paginate<T>(
    incoming: &Incoming,
    link: &str,
    items: &[T],
    last_cap: Option<usize>,
    render: impl Fn(&T) -> Value,
) -> Reply {
    let last = items.len().div_ceil(incoming.per_page).max(1);
    let skip = (incoming.page - 1).saturating_mul(incoming.per_page);
    // A slice skips in one step, so a page costs its own length, not the list's.
    let page: Vec<Value> = items
        .iter()
        .skip(skip)
        .take(incoming.per_page)
        .map(render)
        .collect();
    let mut reply = Reply::ok(Value::Array(page));
    if let Some(header) = link_header(
        link,
        incoming.query.as_deref(),
        incoming.page,
        last,
        last_cap,
    ) {
        reply.headers.push(("link", header));
    }
    reply
}

/// In GitHub's order: prev, next, last, first. The request's other parameters are kept, in
/// their order, with `page` last.
fn link_header(
    url: &str,
    query: Option<&str>,
    page: usize,
    last: usize,
    last_cap: Option<usize>,
) -> Option<String> {
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .filter(|(key, _)| key.as_str() != "page")
        .collect();
    let to = |number: usize, rel: &str| {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                kept.iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .append_pair("page", &number.to_string())
            .finish();
        format!("<{url}?{query}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(to(page - 1, "prev"));
    }
    if page < last {
        links.push(to(page + 1, "next"));
        links.push(to(last_cap.map_or(last, |cap| cap.min(last)), "last"));
    }
    if page > 1 {
        links.push(to(1, "first"));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// SplitMix64: small, fast and deterministic, which is all a fake needs.
struct Rng(u64);

impl Rng {
    fn step(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `0..n`; `n` must not be 0.
    fn below(&mut self, n: usize) -> usize {
        (self.step() % n as u64) as usize
    }

    /// In `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.step() >> 11) as f64 / (1_u64 << 53) as f64
    }
}
