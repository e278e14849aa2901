//! Storage: one `Db` over SQLite or PostgreSQL. SQL lives next to the method that runs it.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgPool, SqlitePool};

use crate::config::DatabaseUrl;

/// Runs `$body` with `$pool` bound to whichever native pool `$db` holds, so one SQL text
/// (with `$N` placeholders, which both drivers accept) serves both backends. Each use is one
/// statement, and is counted.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {{
        let db: &$crate::db::Db = $db;
        db.count_statement();
        match db.pool() {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    }};
}

pub mod collaborations;
pub mod columns;
pub mod count_cache;
pub mod developers;
pub mod edges;
pub mod figures;
pub mod filter;
pub mod freshness;
pub mod github_slots;
pub mod growth;
pub mod http_cache;
pub mod import;
pub mod incomplete;
pub mod jobs;
pub mod keyset;
pub mod list_progress;
pub mod listing;
pub mod probe;
pub mod rate_limits;
pub mod related;
pub mod repositories;
pub mod restrictions;
pub mod sizes;
pub mod sql;
pub mod star_history;
pub mod stats;
mod timestamp;
pub mod users;

pub use timestamp::Timestamp;

/// Which developer or repository a statement is about: by login or full name (as GitHub
/// compares them, ignoring case), or by GitHub id.
#[derive(Clone, Copy, Debug)]
pub enum Key<'a> {
    Name(&'a str),
    GitHubId(i64),
}

impl Key<'_> {
    /// The condition that picks the record, for a table whose name column is `name_column`.
    fn condition(self, sql: &mut sql::Sql, name_column: &str) -> String {
        match self {
            Self::Name(name) => {
                let name = sql.bind(sql::SqlValue::Text(name.to_owned()));
                format!("lower({name_column}) = lower({name})")
            }
            Self::GitHubId(id) => format!("github_id = {}", sql.bind(sql::SqlValue::Int(id))),
        }
    }
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The database: a native pool for one of the two backends, and a count of the statements
/// run through it (all clones share both).
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    statements: Arc<AtomicU64>,
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot connect to database {url}: {cause}")]
    Unreachable { url: String, cause: String },
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a statement waits for a pooled connection before the request gets 503: a dead
/// connection fails at once, so this bounds the wait while the pool reconnects. It is
/// generous so that a long queue for the pool under load is not mistaken for an outage.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection idle this long is closed: an idle one holds its caches (a SQLite
/// connection's pages, its thread, every connection's prepared statements) for nothing.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `err` says the database is away (down, restarting, unreachable) rather than that
/// a statement was wrong: the first passes, the second is a bug.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        // A conversation cut short (a server closing mid-handshake says no valid message)
        // is the connection's failure, not the statement's.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01–57P04 (the server shutting down,
        // crashed, starting up, or its database dropped: how PostgreSQL reports a stop) and
        // 53300 (too many connections). Not 57014: a cancelled statement is the statement's.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }),
        _ => false,
    }
}

/// Opens one connection straight away: a pool would retry until its timeout and then report
/// only that it timed out, where an operator needs the cause ("connection refused", a bad
/// password, a missing folder).
pub(crate) async fn check_reachable<O>(url: &DatabaseUrl, options: &O) -> Result<(), ConnectError>
where
    O: ConnectOptions,
    O::Connection: Sized,
{
    let unreachable = |cause: String| ConnectError::Unreachable {
        url: url.redacted(),
        cause,
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(connection)) => {
            // Closing politely is a courtesy; the check already succeeded.
            let _ = connection.close().await;
            Ok(())
        }
        Ok(Err(err)) => Err(unreachable(err.to_string())),
        Err(_) => Err(unreachable(format!("no answer within {CONNECT_TIMEOUT:?}"))),
    }
}

/// Either database's pool: its size, how long a caller waits for a connection, how long
/// an idle one is kept.
fn pool_options<DB: sqlx::Database>(max_connections: u32) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(IDLE_TIMEOUT)
}

impl Db {
    /// Opens a pool for `sqlite://…` (the file is created if missing) or `postgres://…`
    /// (`postgresql://…` too, as Heroku writes it), and checks that it answers.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self, ConnectError> {
        let raw = url.expose();
        let invalid = |reason: String| ConnectError::InvalidUrl {
            url: url.redacted(),
            reason,
        };
        if raw.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(raw)
                .map_err(|err| invalid(err.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            check_reachable(url, &options).await?;
            let pool = pool_options(max_connections).connect_lazy_with(options);
            Ok(Self::new(Pool::Sqlite(pool)))
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(raw).map_err(|err| invalid(err.to_string()))?;
            check_reachable(url, &options).await?;
            let pool = pool_options(max_connections).connect_lazy_with(options);
            Ok(Self::new(Pool::Postgres(pool)))
        } else {
            Err(invalid(
                "expected sqlite://FILE or postgres://USER:PASSWORD@HOST:PORT/DB".to_owned(),
            ))
        }
    }

    fn new(pool: Pool) -> Self {
        Self {
            pool,
            statements: Arc::default(),
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The pool's open connections, and how many of them are idle.
    pub fn pool_usage(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }

    /// One round trip: whether the database answers at all.
    pub async fn ping(&self) -> sqlx::Result<()> {
        with_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))
    }

    pub fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// How many statements have run through this database handle (and its clones).
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Applies pending migrations; already-applied ones are skipped, so this is idempotent.
    /// On PostgreSQL sqlx holds an advisory lock meanwhile, so instances may start together.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }

    /// The migrations embedded for each backend, as (version, description) pairs.
    pub fn migration_versions() -> [Vec<(i64, String)>; 2] {
        let list = |migrator: &Migrator| {
            migrator
                .iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect()
        };
        [list(&SQLITE_MIGRATIONS), list(&POSTGRES_MIGRATIONS)]
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}
