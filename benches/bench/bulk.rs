//! A graph of a chosen scale written straight into a fresh database by a few `INSERT …
//! SELECT` statements: minutes at the large scale, where the store code takes an hour. Ids
//! are numbers written as UUIDs, so edges name their ends without a lookup. The shape is the
//! one users ask about: followers and stars with a heavy tail (a uniform number cubed picks
//! whom), ten cities and `Berlin, Germany` for one developer in a hundred, "code" in half the
//! bios, ten languages, sizes to half a gigabyte, and 26 weeks of star history for a
//! repository in twenty. A tenth of the developers and a third of the repositories are
//! known only from lists (never synced); GitHub's counts are those of the stored edges.

use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use gitomatic::config::DatabaseUrl;
use gitomatic::db::star_history::running_totals_stmt;
use gitomatic::db::{Db, Pool};
use gitomatic::with_pool;

use crate::generate::Scale;

/// The SQL that differs between the two databases.
#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

/// Where repository ids start, above every developer id.
const REPOSITORY_IDS: i64 = 1 << 40;

impl Dialect {
    /// The UUID whose 128 bits are the number `expr`.
    fn uuid(self, expr: &str) -> String {
        match self {
            Self::Sqlite => format!("unhex(printf('%032x', {expr}))"),
            Self::Postgres => format!("lpad(to_hex({expr}), 32, '0')::uuid"),
        }
    }

    /// `count` days after the day `base`, as each database stores a time.
    fn day(self, base: &str, count: &str) -> String {
        match self {
            Self::Sqlite => {
                format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', '{base}', ({count}) || ' days')")
            }
            Self::Postgres => format!("(TIMESTAMPTZ '{base}' + ({count}) * INTERVAL '1 day')"),
        }
    }

    /// The numbers 1 to `count` in the column `name` of the table `name`: a WITH clause to
    /// put before the statement (SQLite's) and the table to select from.
    fn numbers(self, name: &str, count: &str) -> (String, String) {
        match self {
            Self::Sqlite => (
                format!(
                    "n_{name}({name}) AS (SELECT 1 UNION ALL SELECT {name} + 1 FROM n_{name} \
                     WHERE {name} < {count})"
                ),
                format!("n_{name}"),
            ),
            Self::Postgres => (
                String::new(),
                format!("generate_series(1::bigint, {count}) AS n_{name}({name})"),
            ),
        }
    }

    /// An insert of `columns` into `table` from `select` over the numbers `series` (name,
    /// count), skipping rows already there.
    fn insert(self, table: &str, columns: &str, select: &str, series: &[(&str, &str)]) -> String {
        let (with, from): (Vec<String>, Vec<String>) = series
            .iter()
            .map(|(name, count)| self.numbers(name, count))
            .unzip();
        let with: Vec<String> = with.into_iter().filter(|w| !w.is_empty()).collect();
        let select = select.replace("{from}", &from.join(", "));
        match self {
            Self::Sqlite => format!(
                "WITH RECURSIVE {} INSERT OR IGNORE INTO {table} ({columns}) {select}",
                with.join(", ")
            ),
            Self::Postgres => {
                format!("INSERT INTO {table} ({columns}) {select} ON CONFLICT DO NOTHING")
            }
        }
    }
}

/// A number from 1 to `n`, picked by `a` and `b`: most often a small one (a uniform number
/// cubed). Integer arithmetic, which truncates on both databases.
fn skewed(a: &str, b: &str, n: &str) -> String {
    let h = format!("((({a}) * 2654435761 + ({b}) * 40503) % 1000003)");
    format!("(({h} * {h} / 1000003 * {h} / 1000003) * {n} / 1000003 + 1)")
}

/// One of `names`, picked by `expr`.
fn one_of(expr: &str, names: &[&str]) -> String {
    let arms: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(n, name)| format!("WHEN {n} THEN '{name}'"))
        .collect();
    format!("CASE ({expr}) % {} {} END", names.len(), arms.join(" "))
}

const CITIES: &[&str] = &[
    "Lisbon",
    "Osaka",
    "Lagos",
    "Recife",
    "Paris",
    "Seattle",
    "Pune",
    "Toronto",
    "Nairobi",
    "Melbourne",
];
const LANGUAGES: &[&str] = &[
    "Rust",
    "Python",
    "Go",
    "TypeScript",
    "C",
    "Java",
    "Ruby",
    "Kotlin",
    "Swift",
    "Haskell",
];

/// The statements that write the graph, in order.
fn statements(d: Dialect, scale: Scale) -> Vec<String> {
    let (developers, repositories) = (scale.developers.to_string(), scale.repositories.to_string());
    let per_follows = (scale.follows / scale.developers).to_string();
    let per_stars = (scale.stars / scale.developers).to_string();
    let synced = d.day("2024-01-01", "0");
    let city = one_of("i", CITIES);
    let developer = format!(
        "SELECT {id}, i, 'user-' || i, 'Developer ' || i, CASE WHEN i % 3 = 0 THEN 'Acme' END, \
         CASE WHEN i % 100 = 7 THEN 'Berlin, Germany' ELSE {city} END, \
         CASE WHEN i % 2 = 0 THEN 'Writes code, \"number\" ' || i END, {created}, {updated}, \
         i % 7, CASE WHEN i % 10 <> 0 THEN {synced} END, {synced} FROM {{from}}",
        id = d.uuid("i"),
        created = d.day("2008-01-01", "i * 7919 % 5000"),
        updated = d.day("2020-01-01", "i % 365"),
    );
    let repository = format!(
        "SELECT {id}, {REPOSITORY_IDS} + i, {owner_id}, o, 'repo-' || i, \
         'user-' || o || '/repo-' || i, 'Project <' || i || '>', {language}, {created}, \
         {updated}, TRUE, TRUE, i % 9 = 0, TRUE, i % 2 = 0, FALSE, i % 13 = 0, FALSE, i % 11, \
         (i * 7919) % 500000, CASE WHEN i % 3 <> 0 THEN {synced} END, {synced} \
         FROM (SELECT i, {owner} AS o FROM {{from}}) AS r",
        id = d.uuid(&format!("{REPOSITORY_IDS} + i")),
        owner_id = d.uuid("o"),
        owner = skewed("i", "7", &developers),
        language = one_of("i", LANGUAGES),
        created = d.day("2012-01-01", "i * 31 % 4000"),
        updated = d.day("2020-01-01", "i % 365"),
    );
    let follow = format!(
        "SELECT {}, {} FROM (SELECT i, {} AS f FROM {{from}}) AS e WHERE f <> i",
        d.uuid("i"),
        d.uuid("f"),
        skewed("i", "j", &developers)
    );
    let star = format!(
        "SELECT {}, {}, {} FROM (SELECT i, j, {} AS r FROM {{from}}) AS e",
        d.uuid("i"),
        d.uuid(&format!("{REPOSITORY_IDS} + r")),
        d.day("2015-01-01", "(i * 31 + j) % 3650"),
        skewed("i", "j + 1000", &repositories)
    );
    let today = Utc::now().date_naive();
    let sunday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_sunday()));
    let week = format!(
        "SELECT {}, {}, (k + w * 3) % 7 FROM {{from}}",
        d.uuid(&format!("{REPOSITORY_IDS} + k * 20")),
        d.day(&sunday.format("%Y-%m-%d").to_string(), "-7 * (w - 1)")
    );
    let mut all = vec![
        d.insert(
            "developers",
            "id, github_id, login, name, company, location, bio, created_at, updated_at, \
             public_gists, synced_at, inserted_at",
            &developer,
            &[("i", &developers)],
        ),
        d.insert(
            "repositories",
            "id, github_id, owner_id, owner_github_id, name, full_name, description, language, \
             created_at, updated_at, has_downloads, has_issues, has_pages, has_projects, \
             has_wiki, private, archived, disabled, open_issues_count, size, synced_at, \
             inserted_at",
            &repository,
            &[("i", &repositories)],
        ),
        d.insert(
            "follows",
            "follower_id, followee_id",
            &follow,
            &[("i", &developers), ("j", &per_follows)],
        ),
        d.insert(
            "stars",
            "developer_id, repository_id, starred_at",
            &star,
            &[("i", &developers), ("j", &per_stars)],
        ),
        d.insert(
            "star_weeks",
            "repository_id, week, stars",
            &week,
            &[("k", &(scale.repositories / 20).to_string()), ("w", "26")],
        ),
        // The store's own statement, over every repository.
        running_totals_stmt(None).sql,
        format!(
            "UPDATE repositories SET star_history_at = {synced} \
             WHERE (github_id - {REPOSITORY_IDS}) % 20 = 0"
        ),
    ];
    all.extend(COUNTS.iter().map(|count| (*count).to_owned()));
    all
}

/// GitHub's counts and the owners' totals, from what was stored (the same text on both).
const COUNTS: &[&str] = &[
    "UPDATE developers SET followers_count = 0, following_count = 0, public_repos = 0, \
     repositories_size = 0 WHERE synced_at IS NOT NULL",
    "UPDATE developers SET followers_count = c.n FROM (SELECT followee_id AS id, COUNT(*) AS n \
     FROM follows GROUP BY followee_id) AS c WHERE developers.id = c.id \
     AND developers.synced_at IS NOT NULL",
    "UPDATE developers SET following_count = c.n FROM (SELECT follower_id AS id, COUNT(*) AS n \
     FROM follows GROUP BY follower_id) AS c WHERE developers.id = c.id \
     AND developers.synced_at IS NOT NULL",
    "UPDATE developers SET public_repos = c.n, repositories_size = c.size FROM (SELECT \
     owner_id AS id, COUNT(*) AS n, SUM(size) AS size FROM repositories GROUP BY owner_id) AS c \
     WHERE developers.id = c.id AND developers.synced_at IS NOT NULL",
    "UPDATE repositories SET stargazers_count = 0, watchers_count = 0",
    "UPDATE repositories SET stargazers_count = c.n, watchers_count = c.n FROM (SELECT \
     repository_id AS id, COUNT(*) AS n FROM stars GROUP BY repository_id) AS c \
     WHERE repositories.id = c.id",
];

/// Fills the (empty) database at `url` with a graph of `scale`'s size, then settles it as
/// autovacuum would; returns how long it took.
pub async fn generate(url: &str, scale: Scale) -> anyhow::Result<Duration> {
    let started = Instant::now();
    // One connection, so that its cache setting holds for every statement.
    let db = Db::connect(&DatabaseUrl::new(url.to_owned()), 1).await?;
    db.migrate().await?;
    let (dialect, settle) = match db.pool() {
        Pool::Sqlite(_) => (Dialect::Sqlite, "ANALYZE"),
        Pool::Postgres(_) => (Dialect::Postgres, "VACUUM ANALYZE"),
    };
    let mut all = Vec::new();
    if matches!(dialect, Dialect::Sqlite) {
        all.push("PRAGMA cache_size = -1000000".to_owned());
    }
    all.extend(statements(dialect, scale));
    all.push(settle.to_owned());
    for sql in all {
        let at = Instant::now();
        with_pool!(&db, |pool| sqlx::query(&sql)
            .execute(pool)
            .await
            .map(|_| ()))?;
        let head: String = sql.chars().take(60).collect();
        eprintln!("  {:.1} s: {head}…", at.elapsed().as_secs_f64());
    }
    db.close().await;
    Ok(started.elapsed())
}
