//! Settings: built-in defaults < optional TOML file < environment < command-line flags.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use anyhow::{Context, anyhow};
use serde::Deserialize;

/// A value that must never reach a log line, an error message or `Debug` output.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A database URL. It may carry a password, so only its redacted form is ever shown.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(Secret);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(Secret::new(url))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The URL with any password replaced, fit for logs and error messages.
    pub fn redacted(&self) -> String {
        match url::Url::parse(self.expose()) {
            Ok(mut url) if url.password().is_some() => {
                // Setting a password only fails for URLs that cannot have one.
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            Ok(url) => url.to_string(),
            Err(_) => "<unparsable database URL>".to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// A setting that is `*`, for everyone, or a comma-separated list of `T` (nobody when empty).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String", bound = "T: ListEntry")]
pub enum Allowed<T> {
    All,
    Only(Vec<T>),
}

/// An entry of an `Allowed` list, read as the setting writes it.
pub trait ListEntry: Sized + fmt::Display {
    fn parse_entry(text: &str) -> anyhow::Result<Self>;
}

impl<T: PartialEq> Allowed<T> {
    pub fn allows(&self, entry: &T) -> bool {
        match self {
            Self::All => true,
            Self::Only(entries) => entries.contains(entry),
        }
    }
}

impl<T: ListEntry> std::str::FromStr for Allowed<T> {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim() == "*" {
            return Ok(Self::All);
        }
        s.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(T::parse_entry)
            .collect::<anyhow::Result<_>>()
            .map(Self::Only)
    }
}

impl<T: ListEntry> TryFrom<String> for Allowed<T> {
    type Error = anyhow::Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl<T: fmt::Display> fmt::Display for Allowed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Only(entries) => {
                let list: Vec<String> = entries.iter().map(ToString::to_string).collect();
                f.write_str(&list.join(","))
            }
        }
    }
}

/// The origins whose browser pages may call the API (CORS): none (the default), any (`*`,
/// without credentials), or a list, which may send credentials.
pub type CorsOrigins = Allowed<Origin>;

/// A scheme, a host and maybe a port, exactly as a browser sends it in `Origin`: no path, no
/// trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin(pub String);

impl ListEntry for Origin {
    fn parse_entry(text: &str) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(text).ok();
        match parsed.map(|url| url.origin().ascii_serialization()) {
            Some(origin) if origin == text => Ok(Self(origin)),
            _ => Err(anyhow!(
                "{text:?} is not an origin like \"https://example.com\" (or use \"*\")"
            )),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The peers whose `X-Forwarded-Proto`/`X-Forwarded-Host` headers are believed: a list of
/// addresses, or `*` for all (right behind a platform router such as Heroku's).
pub type TrustedProxies = Allowed<IpAddr>;

impl ListEntry for IpAddr {
    fn parse_entry(text: &str) -> anyhow::Result<Self> {
        text.parse()
            .map_err(|_| anyhow!("{text:?} is not an IP address (or use \"*\")"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(anyhow!("expected \"text\" or \"json\", got {other:?}")),
        }
    }
}

/// Every setting of the service. Field names are the TOML keys.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub database_max_connections: u32,
    pub bind: SocketAddr,
    pub log_format: LogFormat,
    pub forwarded_allow_ips: TrustedProxies,
    pub secret_key: Option<Secret>,
    pub token_lifetime_seconds: u64,
    pub login_failures_per_minute: u32,
    pub request_timeout_seconds: u64,
    pub header_read_timeout_seconds: u64,
    /// A list's count of at least `count_cache_rows` records is served again for this long.
    pub count_cache_seconds: u64,
    pub count_cache_rows: i64,
    pub cors_allowed_origins: CorsOrigins,
    pub metrics_bind: Option<SocketAddr>,
    pub github_api_url: String,
    pub github_token: Option<Secret>,
    pub github_api_user: Option<String>,
    pub github_app_id: Option<u64>,
    pub github_app_private_key: Option<Secret>,
    pub github_app_installation_id: Option<u64>,
    pub github_graphql: bool,
    pub rate_limit_stop_threshold: u32,
    pub github_quota_share: f64,
    pub github_max_in_flight: u32,
    pub github_max_retries: u32,
    pub github_retry_base_ms: u64,
    pub github_secondary_wait_seconds: u64,
    pub github_timeout_seconds: u64,
    pub github_graphql_timeout_seconds: u64,
    pub github_api_version: String,
    pub github_restriction_probe_seconds: u64,
    /// Repositories with at least this many stars have GitHub's star history read.
    pub star_history_stars: i64,
    pub workers: u32,
    pub discovery_schedule: String,
    pub heartbeat_schedule: String,
    pub discovery_batch: u32,
    pub discovery_top_up: bool,
    pub crawl_batch: u32,
    /// Records synced longer ago than this are re-checked by the refresh; 0: never.
    pub refresh_days: u32,
    /// The part of each quota window (REST's, GraphQL's) the refresh may spend: it stops once less than
    /// `1 - refresh_share` of the window is left, for discovery to spend.
    pub refresh_share: f64,
    pub refresh_schedule: String,
    /// Records (of each kind) one refresh run re-checks at most.
    pub refresh_batch: u32,
    pub job_max_attempts: u32,
    pub job_retry_base_seconds: u64,
    pub job_lease_seconds: u64,
    pub job_poll_ms: u64,
    pub job_retention_days: u32,
}

/// The environment as `Config::load` reads it: an empty variable counts as unset, as shells
/// and PaaS dashboards often leave them.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    /// Variable `name` parsed, when set; a value that does not parse is an error naming it.
    fn parsed<T: std::str::FromStr>(&self, name: &str) -> anyhow::Result<Option<T>>
    where
        T::Err: fmt::Display,
    {
        self.get(name)
            .map(|value| {
                value
                    .trim()
                    .parse()
                    .map_err(|err| anyhow!("invalid {name}={value:?}: {err}"))
            })
            .transpose()
    }

    /// Sets `target` from variable `name` when it is set.
    fn set<T: std::str::FromStr>(&self, name: &str, target: &mut T) -> anyhow::Result<()>
    where
        T::Err: fmt::Display,
    {
        if let Some(value) = self.parsed(name)? {
            *target = value;
        }
        Ok(())
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://gitomatic.db";

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DatabaseUrl::new(DEFAULT_DATABASE_URL),
            database_max_connections: 10,
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            log_format: LogFormat::Text,
            forwarded_allow_ips: TrustedProxies::Only(vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ]),
            secret_key: None,
            token_lifetime_seconds: 14 * 24 * 60 * 60,
            login_failures_per_minute: 10,
            request_timeout_seconds: 30,
            header_read_timeout_seconds: 10,
            count_cache_seconds: 60,
            count_cache_rows: 10_000,
            cors_allowed_origins: CorsOrigins::Only(Vec::new()),
            metrics_bind: None,
            github_api_url: "https://api.github.com".to_owned(),
            github_token: None,
            github_api_user: None,
            github_app_id: None,
            github_app_private_key: None,
            github_app_installation_id: None,
            github_graphql: true,
            rate_limit_stop_threshold: 25,
            github_quota_share: 1.0,
            github_max_in_flight: 1,
            github_max_retries: 5,
            github_retry_base_ms: 1_000,
            github_secondary_wait_seconds: 60,
            github_timeout_seconds: 30,
            // GitHub ends a query after 10 s; a little above lets its own answer arrive.
            github_graphql_timeout_seconds: 11,
            github_api_version: "2022-11-28".to_owned(),
            github_restriction_probe_seconds: 24 * 60 * 60,
            star_history_stars: 10,
            workers: 2,
            discovery_schedule: "0 0 * * * *".to_owned(),
            heartbeat_schedule: "0 * * * * *".to_owned(),
            discovery_batch: 5,
            discovery_top_up: true,
            crawl_batch: 100,
            refresh_days: 7,
            refresh_share: 0.25,
            refresh_schedule: "0 */10 * * * *".to_owned(),
            refresh_batch: 100,
            job_max_attempts: 5,
            job_retry_base_seconds: 30,
            job_lease_seconds: 60,
            job_poll_ms: 1_000,
            job_retention_days: 30,
        }
    }
}

impl Config {
    /// Defaults, then `file` if given, then the environment as `env` reports it.
    pub fn load(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).map_err(|err| {
            // toml's own message spans several lines with a source excerpt; keep one.
            let reason = err.message().to_owned();
            let at = err
                .span()
                .map(|span| {
                    let line = text[..span.start].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            anyhow!("invalid config file {}{at}: {reason}", path.display())
        })
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let vars = Env(&env);
        if let Some(url) = vars.get("DATABASE_URL") {
            self.database_url = DatabaseUrl::new(url);
        }
        vars.set(
            "DATABASE_MAX_CONNECTIONS",
            &mut self.database_max_connections,
        )?;
        if let Some(port) = vars.parsed::<u16>("PORT")? {
            self.bind = SocketAddr::from(([0, 0, 0, 0], port));
        }
        vars.set("LOG_FORMAT", &mut self.log_format)?;
        vars.set("FORWARDED_ALLOW_IPS", &mut self.forwarded_allow_ips)?;
        vars.set("TOKEN_LIFETIME_SECONDS", &mut self.token_lifetime_seconds)?;
        vars.set(
            "LOGIN_FAILURES_PER_MINUTE",
            &mut self.login_failures_per_minute,
        )?;
        vars.set("REQUEST_TIMEOUT_SECONDS", &mut self.request_timeout_seconds)?;
        vars.set(
            "HEADER_READ_TIMEOUT_SECONDS",
            &mut self.header_read_timeout_seconds,
        )?;
        vars.set("COUNT_CACHE_SECONDS", &mut self.count_cache_seconds)?;
        vars.set("COUNT_CACHE_ROWS", &mut self.count_cache_rows)?;
        vars.set("CORS_ALLOWED_ORIGINS", &mut self.cors_allowed_origins)?;
        if let Some(address) = vars.parsed("METRICS_BIND")? {
            self.metrics_bind = Some(address);
        }
        if let Some(key) = vars.get("SECRET_KEY") {
            self.secret_key = Some(Secret::new(key));
        }
        if let Some(url) = vars.get("GITHUB_API_URL") {
            self.github_api_url = url;
        }
        if let Some(token) = vars
            .get("GITHUB_TOKEN")
            .or_else(|| vars.get("GITHUB_API_KEY"))
        {
            self.github_token = Some(Secret::new(token));
        }
        if let Some(user) = vars.get("GITHUB_API_USER") {
            self.github_api_user = Some(user);
        }
        if let Some(id) = vars.parsed("GITHUB_APP_ID")? {
            self.github_app_id = Some(id);
        }
        if let Some(key) = vars.get("GITHUB_APP_PRIVATE_KEY") {
            self.github_app_private_key = Some(Secret::new(key));
        }
        if let Some(id) = vars.parsed("GITHUB_APP_INSTALLATION_ID")? {
            self.github_app_installation_id = Some(id);
        }
        vars.set("GITHUB_GRAPHQL", &mut self.github_graphql)?;
        vars.set(
            "RATE_LIMIT_STOP_THRESHOLD",
            &mut self.rate_limit_stop_threshold,
        )?;
        vars.set("GITHUB_QUOTA_SHARE", &mut self.github_quota_share)?;
        vars.set("GITHUB_MAX_IN_FLIGHT", &mut self.github_max_in_flight)?;
        vars.set("GITHUB_API_VERSION", &mut self.github_api_version)?;
        vars.set(
            "GITHUB_RESTRICTION_PROBE_SECONDS",
            &mut self.github_restriction_probe_seconds,
        )?;
        vars.set("STAR_HISTORY_STARS", &mut self.star_history_stars)?;
        self.apply_work_env(&vars)?;
        self.validate()
    }

    /// The environment's settings of the background work: workers, schedules, refresh.
    fn apply_work_env(&mut self, vars: &Env<'_>) -> anyhow::Result<()> {
        vars.set("WORKERS", &mut self.workers)?;
        vars.set("DISCOVERY_TOP_UP", &mut self.discovery_top_up)?;
        vars.set("JOB_RETENTION_DAYS", &mut self.job_retention_days)?;
        vars.set("REFRESH_DAYS", &mut self.refresh_days)?;
        vars.set("REFRESH_SHARE", &mut self.refresh_share)?;
        // An empty schedule is meaningful here: it disables the entry.
        let schedules = [
            ("DISCOVERY_SCHEDULE", &mut self.discovery_schedule),
            ("HEARTBEAT_SCHEDULE", &mut self.heartbeat_schedule),
            ("REFRESH_SCHEDULE", &mut self.refresh_schedule),
        ];
        for (name, schedule) in schedules {
            if let Some(value) = (vars.0)(name) {
                *schedule = value;
            }
        }
        Ok(())
    }

    /// The rules no single value can break on its own.
    fn validate(&self) -> anyhow::Result<()> {
        if self.job_lease_seconds < 3 {
            return Err(anyhow!("job_lease_seconds must be at least 3"));
        }
        if self.job_max_attempts == 0 {
            return Err(anyhow!("job_max_attempts must be at least 1"));
        }
        if !(self.github_quota_share > 0.0 && self.github_quota_share <= 1.0) {
            return Err(anyhow!("github_quota_share must be above 0 and at most 1"));
        }
        if self.github_max_in_flight == 0 {
            return Err(anyhow!("github_max_in_flight must be at least 1"));
        }
        if self.database_max_connections == 0 {
            return Err(anyhow!("database_max_connections must be at least 1"));
        }
        if self.crawl_batch == 0 {
            return Err(anyhow!("crawl_batch must be at least 1"));
        }
        if !(self.refresh_share > 0.0 && self.refresh_share <= 1.0) {
            return Err(anyhow!("refresh_share must be above 0 and at most 1"));
        }
        if self.count_cache_rows < 1 {
            return Err(anyhow!("count_cache_rows must be at least 1"));
        }
        if self.refresh_batch == 0 {
            return Err(anyhow!("refresh_batch must be at least 1"));
        }
        let version = &self.github_api_version;
        if version.is_empty()
            || !version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(anyhow!(
                "github_api_version must be a version GitHub names, like \"2022-11-28\""
            ));
        }
        if self.github_graphql_timeout_seconds == 0 {
            return Err(anyhow!("github_graphql_timeout_seconds must be at least 1"));
        }
        if self.request_timeout_seconds == 0 || self.header_read_timeout_seconds == 0 {
            return Err(anyhow!(
                "request_timeout_seconds and header_read_timeout_seconds must be at least 1"
            ));
        }
        Ok(())
    }

    /// A commented TOML file holding every setting at its default; `-c` reads it back unchanged.
    pub fn default_toml() -> String {
        let d = Self::default();
        format!(
            r#"# git-o-matic-9k configuration. Precedence: built-in defaults < this file < environment < flags.
# Every key is optional; a missing key keeps its default.

# Where data lives: "sqlite://FILE" (created if missing) or "postgres://USER:PASSWORD@HOST:PORT/DB".
# Environment: DATABASE_URL.
database_url = "{database_url}"

# Largest number of open database connections. Environment: DATABASE_MAX_CONNECTIONS.
database_max_connections = {max_connections}

# Address the HTTP server listens on. Environment: PORT=N means "0.0.0.0:N". Flag: serve --bind.
bind = "{bind}"

# Log lines as human-readable "text" or "json" (one object per line). Environment: LOG_FORMAT.
# The level comes from RUST_LOG (default "info").
log_format = "text"

# Peers whose X-Forwarded-Proto and X-Forwarded-Host headers decide the scheme and host of the
# API's links: comma-separated IP addresses, or "*" to trust every peer (behind Heroku's router).
# Environment: FORWARDED_ALLOW_IPS.
forwarded_allow_ips = "{forwarded}"

# Key that signs API tokens. Unset: a random key per start, so tokens die with a restart.
# Environment: SECRET_KEY.
# secret_key = ""

# How long an API token from /github/auth_token/ stays valid, in seconds (default 14 days).
# Environment: TOKEN_LIFETIME_SECONDS.
token_lifetime_seconds = {token_lifetime}

# Failed Basic-auth logins a client (IP address; behind a trusted proxy, the address it
# forwards) may make in a minute; past that, its password attempts get 429 until the minute
# ends. 0 turns the limit off. Environment: LOGIN_FAILURES_PER_MINUTE.
login_failures_per_minute = {login_failures}

# A request still unanswered after this many seconds gets a 503 ({{"detail": ...}}).
# Environment: REQUEST_TIMEOUT_SECONDS.
request_timeout_seconds = {request_timeout}

# A connection whose request headers have not all arrived this many seconds after it opened
# (or after its previous answer, for an idle keep-alive connection) is closed.
# Environment: HEADER_READ_TIMEOUT_SECONDS.
header_read_timeout_seconds = {header_timeout}

# A list's `count` (DRF's exact total of what the filters match) of at least count_cache_rows
# records is remembered for count_cache_seconds and served again meanwhile, so a common
# search word or a popular language is not counted again with every page; a smaller count is
# always exact. 0 seconds: every count exact. Environment: COUNT_CACHE_SECONDS, COUNT_CACHE_ROWS.
count_cache_seconds = {count_seconds}
count_cache_rows = {count_rows}

# Origins whose browser pages may call the API (CORS): comma-separated origins such as
# "https://app.example.com", which may send credentials (Basic or a bearer token); "*" for any
# origin, without credentials; empty (the default) for none. Environment: CORS_ALLOWED_ORIGINS.
cors_allowed_origins = "{cors}"

# Prometheus metrics are at /metrics on the API's port, behind the API's credentials. Set an
# address here (e.g. "0.0.0.0:9100", on a network only the scraper reaches) to also serve
# them there, without credentials; `gitomatic worker` serves them only there.
# Environment: METRICS_BIND.
# metrics_bind = "127.0.0.1:9100"

# GitHub's API, or GitHub Enterprise's "https://HOST/api/v3". Environment: GITHUB_API_URL.
github_api_url = "{github_api_url}"

# Token for GitHub's API; unset means GitHub's unauthenticated limits.
# Environment: GITHUB_TOKEN or GITHUB_API_KEY.
# github_token = ""

# GitHub user name, kept for compatibility with the original service. Environment: GITHUB_API_USER.
# github_api_user = ""

# A GitHub App instead of a token (not both): its id, its private key (PEM text, or the path
# of a file holding it) and the installation whose budget to spend (unset: the app's first).
# The service signs the app's JWT, exchanges it for installation tokens and renews them
# before they expire. Environment: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY,
# GITHUB_APP_INSTALLATION_ID.
# github_app_id = 0
# github_app_private_key = ""
# github_app_installation_id = 0

# Use GitHub's GraphQL API (its own quota, in points) to read profiles a hundred at a time and
# lists never read before; REST keeps the re-reads that conditional requests make free.
# Needs a token or an app: GitHub refuses anonymous GraphQL. Environment: GITHUB_GRAPHQL.
github_graphql = {graphql}

# Stop calling GitHub when this many requests or fewer remain until the quota resets.
# Environment: RATE_LIMIT_STOP_THRESHOLD.
rate_limit_stop_threshold = {threshold}

# The share of each hour's quota this service may spend (0 to 1), leaving the rest of the
# token's quota to other programs. Environment: GITHUB_QUOTA_SHARE.
github_quota_share = {share:?}

# Requests to GitHub in flight at once; GitHub asks integrators for serial requests.
# Environment: GITHUB_MAX_IN_FLIGHT.
github_max_in_flight = {in_flight}

# Retries of a request that met a transient fault (5xx, time-out, reset, truncated body),
# waiting github_retry_base_ms doubled each time, with jitter.
github_max_retries = {retries}
github_retry_base_ms = {retry_base}

# Pause of the whole client after a secondary rate limit without Retry-After, doubled while
# they keep coming.
github_secondary_wait_seconds = {secondary}

# Time-out of one request to GitHub, connecting and reading.
github_timeout_seconds = {timeout}

# Time-out of one GraphQL query. GitHub ends a query that runs over 10 seconds (502, and the
# points are spent): a query that took this long is asked again smaller.
github_graphql_timeout_seconds = {graphql_timeout}

# The REST API version every request names (X-GitHub-Api-Version), so that a new version
# with breaking changes is adopted deliberately. Environment: GITHUB_API_VERSION.
github_api_version = "{api_version}"

# A list GitHub refuses to this credential (stargazer lists are restricted to a repository's
# admins and collaborators since 2026) is not asked again for other subjects; one probe
# every this many seconds notices when the restriction is lifted.
# Environment: GITHUB_RESTRICTION_PROBE_SECONDS.
github_restriction_probe_seconds = {probe}

# GitHub's star history (GET /repos/{{owner}}/{{repo}}/stargazers/history: stars per week,
# open to every caller while stargazer lists are restricted) is read for the repositories
# with at least this many stars, whole the first time, then its latest page with each read
# of the repository (a 304, free, when nothing changed). Environment: STAR_HISTORY_STARS.
star_history_stars = {star_history}

# Workers that run jobs in this process (serve --workers N overrides). Environment: WORKERS.
workers = {workers}

# When the scheduler queues periodic jobs: cron expressions with seconds
# (sec min hour day month weekday), in UTC. An empty string disables the entry.
# Environment: DISCOVERY_SCHEDULE, HEARTBEAT_SCHEDULE (set to "" to disable).
discovery_schedule = "{discovery}"
heartbeat_schedule = "{heartbeat}"

# Developers the discovery scraper queues a full profile sync for, each run.
discovery_batch = {batch}

# Keep the quota busy: when a worker finds nothing to do and GitHub's quota (within
# github_quota_share, above rate_limit_stop_threshold) is unspent, it queues a crawl of the
# next crawl_batch developers discovery would pick, most likely to yield first.
# Environment: DISCOVERY_TOP_UP.
discovery_top_up = {top_up}
crawl_batch = {crawl_batch}

# The refresh: every refresh_schedule, up to refresh_batch developers and as many
# repositories synced more than refresh_days ago (0: never) are re-checked, oldest first,
# each with a conditional request (an unchanged record costs nothing; a changed one has its
# lists read again when its counts moved), or with GraphQL a hundred developers to a point.
# It spends at most refresh_share of each REST and GraphQL quota window, leaving the rest
# to discovery. Environment: REFRESH_DAYS, REFRESH_SHARE,
# REFRESH_SCHEDULE (set to "" to disable).
refresh_days = {refresh_days}
refresh_share = {refresh_share:?}
refresh_schedule = "{refresh_schedule}"
refresh_batch = {refresh_batch}

# Failed runs of a job before it fails for good, and the first wait before a retry
# (doubled each time, at most an hour).
job_max_attempts = {attempts}
job_retry_base_seconds = {retry_seconds}

# How long a worker's hold on a job lasts unless renewed (it renews every third of it):
# a job whose worker died is taken up again after this.
job_lease_seconds = {lease}

# How often an idle worker looks for due jobs, in milliseconds.
job_poll_ms = {poll}

# Succeeded and failed jobs that ended longer ago than this many days are deleted (at start
# and hourly), with the dashboard's history as old;
# 0 keeps them all. Environment: JOB_RETENTION_DAYS.
job_retention_days = {retention}
"#,
            database_url = d.database_url.expose(),
            max_connections = d.database_max_connections,
            bind = d.bind,
            forwarded = d.forwarded_allow_ips,
            token_lifetime = d.token_lifetime_seconds,
            login_failures = d.login_failures_per_minute,
            request_timeout = d.request_timeout_seconds,
            header_timeout = d.header_read_timeout_seconds,
            count_seconds = d.count_cache_seconds,
            count_rows = d.count_cache_rows,
            cors = d.cors_allowed_origins,
            github_api_url = d.github_api_url,
            threshold = d.rate_limit_stop_threshold,
            share = d.github_quota_share,
            in_flight = d.github_max_in_flight,
            retries = d.github_max_retries,
            retry_base = d.github_retry_base_ms,
            secondary = d.github_secondary_wait_seconds,
            timeout = d.github_timeout_seconds,
            graphql_timeout = d.github_graphql_timeout_seconds,
            api_version = d.github_api_version,
            probe = d.github_restriction_probe_seconds,
            star_history = d.star_history_stars,
            workers = d.workers,
            discovery = d.discovery_schedule,
            heartbeat = d.heartbeat_schedule,
            batch = d.discovery_batch,
            graphql = d.github_graphql,
            top_up = d.discovery_top_up,
            crawl_batch = d.crawl_batch,
            refresh_days = d.refresh_days,
            refresh_share = d.refresh_share,
            refresh_schedule = d.refresh_schedule,
            refresh_batch = d.refresh_batch,
            attempts = d.job_max_attempts,
            retry_seconds = d.job_retry_base_seconds,
            lease = d.job_lease_seconds,
            poll = d.job_poll_ms,
            retention = d.job_retention_days,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn file_with(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn default_toml_reads_back_as_the_defaults() {
        let file = file_with(&Config::default_toml());
        let loaded = Config::load(Some(file.path()), env_of(&[])).unwrap();
        assert_eq!(loaded, Config::default());
    }

    #[test]
    fn the_default_config_names_every_setting() {
        // serde lists every field it knows when it meets one it does not.
        let err = toml::from_str::<Config>("no_such_setting = 1")
            .unwrap_err()
            .to_string();
        let known = err.split("expected one of").nth(1).expect(&err);
        let settings: Vec<&str> = known.split('`').skip(1).step_by(2).collect();
        assert!(settings.len() > 20, "{err}");
        let text = Config::default_toml();
        for setting in settings {
            assert!(
                text.contains(&format!("\n{setting} = "))
                    || text.contains(&format!("\n# {setting} = ")),
                "print-default-config leaves out {setting}"
            );
        }
    }

    #[test]
    fn a_rest_api_version_github_could_not_name_is_refused() {
        let set = |version: &str| {
            let pairs = [("GITHUB_API_VERSION", version)];
            Config::load(None, env_of(&pairs)).map(|config| config.github_api_version)
        };
        assert_eq!(set("2026-03-10").unwrap(), "2026-03-10");
        let err = set("2026 03 10").unwrap_err().to_string();
        assert!(err.contains("github_api_version"), "{err}");
        assert!(set("x\ny").is_err());
    }

    #[test]
    fn the_refresh_is_set_from_the_environment_and_its_share_checked() {
        let pairs = [
            ("REFRESH_DAYS", "3"),
            ("REFRESH_SHARE", "0.5"),
            ("REFRESH_SCHEDULE", ""),
        ];
        let config = Config::load(None, env_of(&pairs)).unwrap();
        assert_eq!(
            (
                config.refresh_days,
                config.refresh_share,
                config.refresh_schedule.as_str()
            ),
            (3, 0.5, "")
        );
        for share in ["0", "1.5"] {
            let err = Config::load(None, env_of(&[("REFRESH_SHARE", share)])).unwrap_err();
            assert!(err.to_string().contains("refresh_share"), "{err}");
        }
    }

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        let file = file_with("rate_limit_stop_threshold = 40\nbind = \"127.0.0.1:9000\"\n");
        let from_file = Config::load(Some(file.path()), env_of(&[])).unwrap();
        assert_eq!(from_file.rate_limit_stop_threshold, 40);
        assert_eq!(from_file.bind.to_string(), "127.0.0.1:9000");
        assert_eq!(from_file.log_format, LogFormat::Text);

        let env = env_of(&[("RATE_LIMIT_STOP_THRESHOLD", "7"), ("PORT", "5000")]);
        let with_env = Config::load(Some(file.path()), env).unwrap();
        assert_eq!(with_env.rate_limit_stop_threshold, 7);
        assert_eq!(with_env.bind.to_string(), "0.0.0.0:5000");
    }

    #[test]
    fn github_token_prefers_github_token_over_api_key() {
        let both = env_of(&[("GITHUB_TOKEN", "a"), ("GITHUB_API_KEY", "b")]);
        let config = Config::load(None, both).unwrap();
        assert_eq!(config.github_token.unwrap().expose(), "a");
        let key_only = env_of(&[("GITHUB_API_KEY", "b")]);
        assert_eq!(
            Config::load(None, key_only)
                .unwrap()
                .github_token
                .unwrap()
                .expose(),
            "b"
        );
    }

    #[test]
    fn trusted_proxies_are_a_list_of_addresses_or_everyone() {
        let env = env_of(&[("FORWARDED_ALLOW_IPS", "10.0.0.1, ::1")]);
        let proxies = Config::load(None, env).unwrap().forwarded_allow_ips;
        assert!(proxies.allows(&"10.0.0.1".parse().unwrap()));
        assert!(proxies.allows(&"::1".parse().unwrap()));
        assert!(!proxies.allows(&"127.0.0.1".parse().unwrap()));
        let all = Config::load(None, env_of(&[("FORWARDED_ALLOW_IPS", "*")])).unwrap();
        assert!(
            all.forwarded_allow_ips
                .allows(&"203.0.113.9".parse().unwrap())
        );
        let err =
            Config::load(None, env_of(&[("FORWARDED_ALLOW_IPS", "proxy.local")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"proxy.local\" is not an IP address"),
            "{err}"
        );
    }

    #[test]
    fn empty_environment_variables_count_as_unset() {
        let config = Config::load(None, env_of(&[("DATABASE_URL", ""), ("PORT", " ")])).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn bad_values_are_reported_with_their_source() {
        let err = Config::load(None, env_of(&[("PORT", "eighty")])).unwrap_err();
        assert!(err.to_string().contains("invalid PORT=\"eighty\""), "{err}");

        let file = file_with("\n\nbindd = \"x\"\n");
        let err = Config::load(Some(file.path()), env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown field `bindd`") && err.contains("line 3"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");

        let err = Config::load(Some(Path::new("/nonexistent/x.toml")), env_of(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("cannot read config file /nonexistent/x.toml"));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let env = env_of(&[
            ("SECRET_KEY", "s3cr3t-key"),
            ("GITHUB_TOKEN", "ghp_tok3n"),
            ("DATABASE_URL", "postgres://app:hunter2@db.example:5432/app"),
        ]);
        let shown = format!("{:?}", Config::load(None, env).unwrap());
        for secret in ["s3cr3t-key", "ghp_tok3n", "hunter2"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(
            shown.contains("postgres://app:***@db.example:5432/app"),
            "{shown}"
        );
    }
}
