//! `gitomatic import django`: the Django git-o-matic-9k's PostgreSQL database (its schema is
//! the one its migrations leave) read in batches of rows, in key order, and merged into ours.
//! Each batch is one transaction with the key it reached, so a killed import goes on where it
//! stopped; a finished one forgets its progress, and a second run merges the same rows again
//! into records that already hold them, which changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use anyhow::{Context, bail};
use indicatif::ProgressBar;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{FromRow, PgPool, Row};
use uuid::Uuid;

use crate::config::DatabaseUrl;
use crate::db::developers::DeveloperProfile;
use crate::db::import::{
    self, ImportedDeveloper, ImportedRecord, ImportedRepository, ImportedUser,
    core_rate_limit_stmt, progress_stmt,
};
use crate::db::repositories::{RepositoryCounts, RepositoryDetails};
use crate::db::sql::Sql;
use crate::db::{self, ConnectError, Db, Timestamp};

/// The tables and columns read, as the Django migrations leave them.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "github_developer",
        &[
            "id",
            "github_id",
            "login",
            "data_source",
            "bio",
            "company",
            "created_at",
            "email",
            "followers_count",
            "following_count",
            "location",
            "name",
            "public_gists",
            "public_repos",
            "updated_at",
        ],
    ),
    (
        "github_repository",
        &[
            "id",
            "github_id",
            "data_source",
            "name",
            "description",
            "archived",
            "created_at",
            "disabled",
            "full_name",
            "has_downloads",
            "has_issues",
            "has_pages",
            "has_projects",
            "has_wiki",
            "homepage",
            "language",
            "private",
            "stargazers_count",
            "subscribers_count",
            "updated_at",
            "watchers_count",
            "open_issues_count",
            "owner_id",
            "owner_github_id",
        ],
    ),
    (
        "github_developer_followers",
        &["id", "from_developer_id", "to_developer_id"],
    ),
    (
        "github_developer_following",
        &["id", "from_developer_id", "to_developer_id"],
    ),
    (
        "github_developer_starred_repositories",
        &["id", "developer_id", "repository_id"],
    ),
    (
        "github_repository_stargazers",
        &["id", "repository_id", "developer_id"],
    ),
    (
        "github_ratelimit",
        &[
            "id",
            "rate_limit",
            "rate_remaining",
            "rate_reset_raw",
            "rate_reset",
        ],
    ),
    (
        "auth_user",
        &["id", "password", "username", "is_active", "date_joined"],
    ),
];

/// The steps of an import, in order: developers before what refers to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Developers,
    Repositories,
    Followers,
    Following,
    Starred,
    Stargazers,
    Users,
}

impl Step {
    const ALL: [Self; 7] = [
        Self::Developers,
        Self::Repositories,
        Self::Followers,
        Self::Following,
        Self::Starred,
        Self::Stargazers,
        Self::Users,
    ];

    fn table(self) -> &'static str {
        match self {
            Self::Developers => "github_developer",
            Self::Repositories => "github_repository",
            Self::Followers => "github_developer_followers",
            Self::Following => "github_developer_following",
            Self::Starred => "github_developer_starred_repositories",
            Self::Stargazers => "github_repository_stargazers",
            Self::Users => "auth_user",
        }
    }

    /// Records are keyed by UUID, the rest by an integer.
    fn keyed_by_uuid(self) -> bool {
        matches!(self, Self::Developers | Self::Repositories)
    }

    /// The columns read, the key first.
    fn columns(self) -> &'static str {
        match self {
            // Counts widened to ours, so that our column groups read them as they are.
            Self::Developers => {
                "id, github_id, login, data_source, name, location, bio, company, email, \
                 created_at, updated_at, followers_count::bigint AS followers_count, \
                 following_count::bigint AS following_count, \
                 public_gists::bigint AS public_gists, public_repos::bigint AS public_repos"
            }
            Self::Repositories => {
                "id, github_id, owner_id, owner_github_id, data_source, name, full_name, \
                 description, homepage, language, created_at, updated_at, has_downloads, \
                 has_issues, has_pages, has_projects, has_wiki, private, archived, disabled, \
                 stargazers_count::bigint AS stargazers_count, \
                 subscribers_count::bigint AS subscribers_count, \
                 watchers_count::bigint AS watchers_count, \
                 open_issues_count::bigint AS open_issues_count, \
                 NULL::bigint AS size"
            }
            // Whose list holds whom: `to` follows `from`.
            Self::Followers => "id, to_developer_id, from_developer_id",
            Self::Following => "id, from_developer_id, to_developer_id",
            Self::Starred | Self::Stargazers => "id, developer_id, repository_id",
            Self::Users => "id, username, password, date_joined",
        }
    }

    fn condition(self) -> &'static str {
        match self {
            Self::Users => " AND is_active",
            _ => "",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Developers => "developers",
            Self::Repositories => "repositories",
            Self::Followers => "followers",
            Self::Following => "following",
            Self::Starred => "starred",
            Self::Stargazers => "stargazers",
            Self::Users => "users",
        })
    }
}

/// What an import read and what it left out, and why.
#[derive(Debug, Default)]
pub struct Report {
    /// Rows read, per step (those of an earlier, interrupted run not counted again).
    pub read: BTreeMap<String, u64>,
    /// Rows left out, with the reason, and how many.
    pub skipped: BTreeMap<String, u64>,
    pub inactive_users: u64,
    pub rate_limit: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read: Vec<String> = self.read.iter().map(|(k, n)| format!("{n} {k}")).collect();
        write!(f, "read {}", read.join(", "))?;
        if self.rate_limit {
            write!(f, ", the core rate limit")?;
        }
        if self.inactive_users > 0 {
            write!(f, "; {} inactive users not imported", self.inactive_users)?;
        }
        for (reason, n) in &self.skipped {
            write!(f, "; {n} left out: {reason}")?;
        }
        Ok(())
    }
}

/// The Django service's database, reachable and with the schema its migrations leave.
pub struct DjangoDatabase {
    pool: PgPool,
    /// Its address without a password: the progress of an import is kept under it.
    name: String,
}

impl DjangoDatabase {
    /// Connects to `url` and checks that it holds the Django service's tables.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let (pool, name) = connect(url).await?;
        check_schema(&pool).await?;
        Ok(Self { pool, name })
    }

    /// Imports everything into `db`, `batch` rows a transaction, moving `progress` along.
    pub async fn import_into(
        self,
        db: &Db,
        batch: u32,
        progress: &ProgressBar,
    ) -> anyhow::Result<Report> {
        let (source, name) = (&self.pool, &self.name);
        let done = db.import_progress(name).await?;
        let mut total = 0;
        let mut already = 0;
        for step in Step::ALL {
            let (rows, before) = count(source, step, done.get(&step.to_string())).await?;
            total += rows;
            already += before;
        }
        progress.set_length(total);
        progress.set_position(already);
        let mut report = Report::default();
        for step in Step::ALL {
            progress.set_message(step.to_string());
            let mut after = done.get(&step.to_string()).cloned();
            loop {
                let rows = read_batch(source, step, after.as_deref(), batch).await?;
                let Some(last) = rows.last() else { break };
                let key = key_of(step, last)?;
                let mut statements = convert(step, &rows, &mut report)?;
                statements.push(progress_stmt(name, &step.to_string(), &key));
                db.run_in_transaction(&statements).await?;
                *report.read.entry(step.to_string()).or_default() += rows.len() as u64;
                progress.inc(rows.len() as u64);
                after = Some(key);
            }
        }
        let inactive: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM auth_user WHERE NOT is_active")
                .fetch_one(source)
                .await?;
        report.inactive_users = u64::try_from(inactive).unwrap_or_default();
        report.rate_limit = import_rate_limit(db, source).await?;
        db.forget_import_progress(name).await?;
        self.pool.close().await;
        Ok(report)
    }
}

/// The source's pool, and a name for it that holds no password (the progress is kept under it).
async fn connect(url: &str) -> anyhow::Result<(PgPool, String)> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!(
            "the Django database must be a PostgreSQL URL: postgres://USER:PASSWORD@HOST:PORT/DB"
        );
    }
    let options = PgConnectOptions::from_str(url)
        .with_context(|| "the Django database URL is not valid".to_owned())?;
    let name = format!(
        "postgres://{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    );
    if let Err(err) = db::check_reachable(&DatabaseUrl::new(url), &options).await {
        let cause = match err {
            ConnectError::Unreachable { cause, .. } => cause,
            other => other.to_string(),
        };
        bail!("cannot connect to the Django database {name}: {cause}");
    }
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy_with(options);
    Ok((pool, name))
}

/// Refuses a database that is not the Django service's, or whose migrations stopped short.
async fn check_schema(source: &PgPool) -> anyhow::Result<()> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema()",
    )
    .fetch_all(source)
    .await?;
    let present: BTreeSet<(String, String)> = rows.into_iter().collect();
    let has_table = |table: &str| present.iter().any(|(t, _)| t == table);
    if !has_table("github_developer") && !has_table("github_repository") {
        bail!(
            "this is not the Django git-o-matic-9k's database: it has no github_developer \
             table (wrong database name, or another schema?)"
        );
    }
    let mut missing = Vec::new();
    for (table, columns) in EXPECTED {
        if !has_table(table) {
            missing.push(format!("table {table}"));
            continue;
        }
        for column in *columns {
            if !present.contains(&((*table).to_owned(), (*column).to_owned())) {
                missing.push(format!("{table}.{column}"));
            }
        }
    }
    if !missing.is_empty() {
        bail!(
            "the Django database is half-migrated (missing {}): run its migrations to the end \
             (python manage.py migrate) and import again",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Rows of `step` in the source, and how many of them an earlier run already imported.
async fn count(source: &PgPool, step: Step, after: Option<&String>) -> anyhow::Result<(u64, u64)> {
    let table = step.table();
    let condition = step.condition();
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {table} WHERE TRUE{condition}"
    ))
    .fetch_one(source)
    .await?;
    let before: i64 = match after {
        None => 0,
        Some(after) => {
            sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE id <= {}{condition}",
                key_cast(step)
            ))
            .bind(after)
            .fetch_one(source)
            .await?
        }
    };
    Ok((
        u64::try_from(total).unwrap_or_default(),
        u64::try_from(before).unwrap_or_default(),
    ))
}

/// `$1` as the type of `step`'s key (the progress keeps keys as text).
fn key_cast(step: Step) -> &'static str {
    if step.keyed_by_uuid() {
        "$1::text::uuid"
    } else {
        "$1::text::integer"
    }
}

async fn read_batch(
    source: &PgPool,
    step: Step,
    after: Option<&str>,
    batch: u32,
) -> anyhow::Result<Vec<PgRow>> {
    // Two statements rather than one with `$1 IS NULL OR id > $1`: PostgreSQL may settle on a
    // generic plan for that, which cannot seek the key and reads from the start each batch.
    let (columns, table, condition) = (step.columns(), step.table(), step.condition());
    let rows = match after {
        None => {
            sqlx::query(&format!(
                "SELECT {columns} FROM {table} WHERE TRUE{condition} ORDER BY id LIMIT $1"
            ))
            .bind(i64::from(batch))
            .fetch_all(source)
            .await
        }
        Some(after) => {
            sqlx::query(&format!(
                "SELECT {columns} FROM {table} WHERE id > {}{condition} ORDER BY id LIMIT $2",
                key_cast(step)
            ))
            .bind(after)
            .bind(i64::from(batch))
            .fetch_all(source)
            .await
        }
    };
    rows.with_context(|| format!("cannot read {table} from the Django database"))
}

fn key_of(step: Step, row: &PgRow) -> anyhow::Result<String> {
    Ok(if step.keyed_by_uuid() {
        row.try_get::<Uuid, _>(0)?.to_string()
    } else {
        row.try_get::<i32, _>(0)?.to_string()
    })
}

/// A GitHub id as the original stored it (text); ours are integers.
fn github_id(text: &str) -> Option<i64> {
    text.parse().ok().filter(|id: &i64| id.to_string() == text)
}

/// The parts of `row` every record has; `github_id` is its parsed id. Complete when its raw
/// record has `own_page_key`, which only the record's own page carries.
fn record(row: &PgRow, github_id: i64, own_page_key: &str) -> anyhow::Result<ImportedRecord> {
    let raw: Value = row.try_get("data_source")?;
    Ok(ImportedRecord {
        id: row.try_get("id")?,
        github_id,
        node_id: raw
            .get("node_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        complete: raw.get(own_page_key).is_some(),
        raw,
    })
}

/// The statements that write one batch of `step`'s rows.
fn convert(step: Step, rows: &[PgRow], report: &mut Report) -> anyhow::Result<Vec<Sql>> {
    let now = Timestamp::now();
    let mut skip = |reason: &str| *report.skipped.entry(reason.to_owned()).or_default() += 1;
    Ok(match step {
        Step::Developers => {
            let mut developers = Vec::with_capacity(rows.len());
            for row in rows {
                let Some(id) = github_id(row.try_get("github_id")?) else {
                    skip("developers whose github_id is not a number");
                    continue;
                };
                developers.push(ImportedDeveloper {
                    // A profile page has what a list item lacks.
                    record: record(row, id, "created_at")?,
                    login: row.try_get("login")?,
                    profile: DeveloperProfile::from_row(row)?,
                });
            }
            import::developers_stmts(&developers, now)
        }
        Step::Repositories => {
            let mut repositories = Vec::with_capacity(rows.len());
            for row in rows {
                let (Some(id), Some(owner_github_id)) = (
                    github_id(row.try_get("github_id")?),
                    github_id(row.try_get("owner_github_id")?),
                ) else {
                    skip("repositories whose github_id or owner_github_id is not a number");
                    continue;
                };
                repositories.push(ImportedRepository {
                    // A list item lacks `subscribers_count`; a repository's own page has it.
                    record: record(row, id, "subscribers_count")?,
                    owner_id: row.try_get("owner_id")?,
                    owner_github_id,
                    details: RepositoryDetails::from_row(row)?,
                    counts: RepositoryCounts::from_row(row)?,
                });
            }
            import::repositories_stmts(&repositories, now)
        }
        Step::Followers | Step::Following | Step::Starred | Step::Stargazers => {
            let pairs = rows
                .iter()
                .map(|row| Ok((row.try_get(1)?, row.try_get(2)?)))
                .collect::<sqlx::Result<Vec<(Uuid, Uuid)>>>()?;
            let stars = matches!(step, Step::Starred | Step::Stargazers);
            import::edges_stmt(stars, &pairs).into_iter().collect()
        }
        Step::Users => {
            let mut users = Vec::with_capacity(rows.len());
            for row in rows {
                let hash: String = row.try_get("password")?;
                let Some(password_hash) = crate::auth::password::from_django(&hash) else {
                    skip("users whose password hash is not Django's PBKDF2-SHA256 or Argon2");
                    continue;
                };
                users.push(ImportedUser {
                    username: row.try_get("username")?,
                    password_hash,
                    joined: row.try_get("date_joined")?,
                });
            }
            import::users_stmt(&users, now).into_iter().collect()
        }
    })
}

/// The original's one rate-limit row becomes our core quota; whether there was one.
async fn import_rate_limit(db: &Db, source: &PgPool) -> anyhow::Result<bool> {
    let row = sqlx::query(
        "SELECT rate_limit, rate_remaining, rate_reset_raw, rate_reset FROM github_ratelimit \
         ORDER BY rate_reset DESC LIMIT 1",
    )
    .fetch_optional(source)
    .await?;
    let Some(row) = row else { return Ok(false) };
    let statement = core_rate_limit_stmt(
        i64::from(row.try_get::<i32, _>("rate_limit")?),
        i64::from(row.try_get::<i32, _>("rate_remaining")?),
        i64::from(row.try_get::<i32, _>("rate_reset_raw")?),
        row.try_get("rate_reset")?,
        Timestamp::now(),
    );
    db.run_in_transaction(&[statement]).await?;
    Ok(true)
}
