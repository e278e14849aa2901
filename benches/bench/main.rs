//! `cargo bench --bench bench -- [--scale small|large] [--backend sqlite|postgres|both]
//! [--seconds N] [--export-scale none|small|large] [--ingest-followers N] [--rest-followers N]
//! [--load-seconds N] [--crawl-windows N] [--refresh-users N] [--keep] [--out FILE] [--demo FILE]` (and the other
//! `--crawl-*` options below): generates a graph at the chosen scale on each database, serves
//! it, and measures the API with wrk; then exports a graph of the export scale in each format
//! (`gitomatic export`: rate and peak RSS); then measures a full profile sync of a user with N followers
//! (default 50,000; 0 skips it) against the in-tree fake GitHub; then a refresh pass over a
//! synced network where a tenth of the records changed (`--refresh-users N`, 0 skips it),
//! over REST and with GraphQL: quota spent per record refreshed; then the memory `serve`
//! holds at rest after one sync (of a user with 5,000 followers) and a few page loads; with
//! --load-seconds, N seconds of wrk at 100 connections while the app's
//! worker runs that sync; last, the crawl rate from one seed over scaled-down quota windows,
//! over REST alone and with GraphQL. `--keep` reuses a complete PostgreSQL graph from an
//! earlier run (the large one takes long to generate). Prints tables and writes the same
//! figures as JSON. `scripts/bench.sh` installs wrk when it is missing and runs this.
//! `--crash-campaign [--crash-kills N] [--crash-runs N] [--crash-api graphql|rest]` runs the
//! crash campaign (`campaign.rs`) instead, on the databases `--backend` names.

// The refresh tests' way of making records due, shared rather than copied.
#[path = "../../tests/api/aging.rs"]
mod aging;
mod api;
mod bulk;
mod campaign;
mod crawl;
mod export;
// The tests' fake GitHub, shared rather than copied; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../../tests/api/fake_github/mod.rs"]
mod fake_github;
mod generate;
mod ingest;
mod load;
mod refresh;
mod served;

use std::time::Duration;

use clap::Parser;
use gitomatic::app::App;
use gitomatic::auth::password;
use gitomatic::config::{Config, DatabaseUrl};
use gitomatic::db::Db;
use gitomatic::with_pool;
use sqlx::Connection;

use api::Measured;
use generate::Scale;

pub const USER: &str = "bench";
pub const PASSWORD: &str = "bench-password";

/// The benchmarks' options.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Options {
    /// Size of the generated graph the API is measured on: small or large.
    #[arg(long, default_value = "small", value_parser = ["small", "large"])]
    scale: String,
    /// Database(s) to measure: sqlite, postgres or both.
    #[arg(long, default_value = "both", value_parser = ["sqlite", "postgres", "both"])]
    backend: String,
    /// Seconds of wrk per endpoint; 0 skips the API's measurements.
    #[arg(long, default_value_t = 5)]
    seconds: u32,
    /// Size of the graph exported in each format (`gitomatic export`: rate and peak RSS):
    /// small, large (the API's scales, generated in bulk by SQL) or none.
    #[arg(long, default_value = "small", value_parser = ["none", "small", "large"])]
    export_scale: String,
    /// Followers of the user whose full sync is measured; 0 skips it.
    #[arg(long, default_value_t = 50_000)]
    ingest_followers: usize,
    /// Followers of the user whose sync `serve` runs before its memory at rest is read; 0
    /// skips it.
    #[arg(long, default_value_t = 5_000)]
    rest_followers: usize,
    /// Serve (SQLite) after one sync, writing the address to this file, until it is removed:
    /// what `scripts/browser-check.sh` looks at. Measures nothing.
    #[arg(long)]
    demo: Option<String>,
    /// Seconds of API load while the app's worker syncs; 0 skips it.
    #[arg(long, default_value_t = 0)]
    load_seconds: u32,
    /// Quota windows the crawl runs for, in each mode (REST alone, then with GraphQL); 0
    /// skips it.
    #[arg(long, default_value_t = 4)]
    crawl_windows: usize,
    /// How long a quota window lasts in the crawl (GitHub's are an hour).
    #[arg(long, default_value_t = 30)]
    crawl_window_seconds: u64,
    /// REST requests and GraphQL points each window allows (GitHub's: 5,000 an hour each).
    #[arg(long, default_value_t = 500)]
    crawl_budget: i64,
    /// Users in the crawled network.
    #[arg(long, default_value_t = 200_000)]
    crawl_users: usize,
    /// The user the crawl starts from (the network's lowest numbers are its most followed).
    #[arg(long, default_value = "user-5000")]
    crawl_seed: String,
    /// Users in the network the refresh pass is measured on (0 skips it), and how many of
    /// the most followed are synced in full first.
    #[arg(long, default_value_t = 3_000)]
    refresh_users: usize,
    #[arg(long, default_value_t = 40)]
    refresh_subjects: usize,
    /// Run the crash campaign instead of the measurements: syncs killed with SIGKILL and
    /// restarted, then the stored edges compared with GitHub's.
    #[arg(long)]
    crash_campaign: bool,
    /// Kills in each run of the crash campaign.
    #[arg(long, default_value_t = 20)]
    crash_kills: usize,
    /// Runs of the crash campaign on each database.
    #[arg(long, default_value_t = 1)]
    crash_runs: usize,
    /// Users in the crash campaign's network.
    #[arg(long, default_value_t = 3_000)]
    crash_users: usize,
    /// The most followed users of that network, each given a full profile sync.
    #[arg(long, default_value_t = 150)]
    crash_subjects: usize,
    /// How late the fake GitHub answers each request in the crash campaign.
    #[arg(long, default_value_t = 4)]
    crash_latency_ms: u64,
    /// The API the crash campaign's syncs read lists over: rest, or graphql (the default
    /// config's), which reads the default network in a few queries: give it a larger one.
    #[arg(long, default_value = "rest", value_parser = ["rest", "graphql"])]
    crash_api: String,
    /// Keep the API's graph for the next run (SQLite: under target/bench/), and reuse a
    /// complete one an earlier run kept.
    #[arg(long)]
    keep: bool,
    /// Write the API's graph by SQL (`bulk.rs`: minutes at the large scale) instead of
    /// through the store code the sync uses (about an hour).
    #[arg(long)]
    bulk: bool,
    /// Where the figures are written as JSON.
    #[arg(long, default_value = "target/bench/results.json")]
    out: String,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Options {
    fn backends(&self) -> Vec<String> {
        match self.backend.as_str() {
            "both" => vec!["sqlite".into(), "postgres".into()],
            one => vec![one.to_owned()],
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if let Some(file) = &options.demo {
        let (url, _guard) = database("sqlite", "demo").await?;
        return served::demo(&url, file).await;
    }
    if options.crash_campaign {
        return crash_campaign(&options).await;
    }
    let scale =
        Scale::named(&options.scale).ok_or_else(|| anyhow::anyhow!("--scale is small or large"))?;
    let mut results: Vec<Measured> = Vec::new();
    let mut notes = Vec::new();
    let mut ingested = Vec::new();
    let mut loaded = Vec::new();
    let mut at_rest = Vec::new();
    let mut exported = Vec::new();
    let mut refreshed = Vec::new();
    for backend in &options.backends() {
        if options.seconds > 0 {
            results.extend(api_on(backend, &options, scale, &mut notes).await?);
        }
        if let Some(scale) = Scale::named(&options.export_scale) {
            let (url, _guard) = database(backend, "export").await?;
            eprintln!(
                "{backend}: generating the {} graph to export…",
                options.export_scale
            );
            let took = bulk::generate(&url, scale).await?;
            notes.push(format!(
                "{backend}: generated the {} graph to export in {:.1} s",
                options.export_scale,
                took.as_secs_f64()
            ));
            exported.extend(export::measure(backend, &url).await?);
        }
        if options.ingest_followers > 0 {
            let (url, _guard) = database(backend, "ingest").await?;
            eprintln!(
                "{backend}: full profile sync of a user with {} followers…",
                options.ingest_followers
            );
            ingested.push(ingest::measure(backend, &url, options.ingest_followers).await?);
        }
        if options.refresh_users > 0 {
            for graphql in [false, true] {
                let (url, _guard) = database(backend, "refresh").await?;
                eprintln!(
                    "{backend}: a refresh pass over {} users' network (GraphQL: {graphql})…",
                    options.refresh_users
                );
                let network = (options.refresh_users, options.refresh_subjects);
                refreshed.push(refresh::measure(backend, &url, network, graphql).await?);
            }
        }
        if options.rest_followers > 0 {
            let (url, _guard) = database(backend, "rest").await?;
            eprintln!(
                "{backend}: serve's memory after a sync of {} followers and page loads…",
                options.rest_followers
            );
            at_rest.push(served::measure(backend, &url, options.rest_followers).await?);
        }
        if options.load_seconds > 0 {
            let (url, _guard) = database(backend, "load").await?;
            eprintln!(
                "{backend}: {} s of load at 100 connections during a sync…",
                options.load_seconds
            );
            let followers = options.ingest_followers.max(50_000);
            loaded.push(load::measure(backend, &url, options.load_seconds, followers).await?);
        }
    }
    let budget = crawl::Budget {
        window: Duration::from_secs(options.crawl_window_seconds),
        rest: options.crawl_budget,
        points: options.crawl_budget,
        windows: options.crawl_windows,
    };
    let mut crawls = Vec::new();
    if options.crawl_windows > 0 {
        eprintln!("generating a network of {} users…", options.crawl_users);
        let graph = fake_github::Graph::network(crawl::network(options.crawl_users));
        let mut limit = crawl::todays_limit(0);
        for mode in crawl::Mode::ALL {
            eprintln!(
                "crawl, {mode:?}: {} windows of {} s…",
                budget.windows,
                budget.window.as_secs()
            );
            let seed = &options.crawl_seed;
            let crawled = crawl::measure(graph.clone(), seed, (mode, limit), &budget).await?;
            if mode == crawl::Mode::Graphql {
                limit = crawl::todays_limit(crawled.largest_work);
            }
            crawls.push(crawled);
        }
    }
    print_table(&results);
    export::print(&exported);
    print_ingest(&ingested);
    refresh::print(&refreshed);
    for rest in &at_rest {
        println!(
            "{}: serve's RSS {:.1} MB at start; at rest after a sync of {} followers and {} \
             page loads: {:.1} MB ({:.1} MB anonymous)",
            rest.backend,
            rest.rss_at_start_mb,
            rest.followers,
            served::PAGES.len(),
            rest.rss_after_activity_mb,
            rest.anonymous_after_activity_mb,
        );
    }
    if !crawls.is_empty() {
        crawl::print(&crawls, &budget);
    }
    for l in &loaded {
        println!(
            "{}: {} s at {} connections on the developers list during a sync: {:.0} req/s, \
             p50 {:.2} ms, p99 {:.2} ms, non-2xx {}, socket errors {}; the sync made {} GitHub \
             requests meanwhile",
            l.backend,
            l.seconds,
            l.connections,
            l.requests_per_second,
            l.p50_ms,
            l.p99_ms,
            l.non_2xx,
            l.socket_errors,
            l.github_requests_during,
        );
    }
    for note in &notes {
        println!("{note}");
    }
    let json = serde_json::json!({
        "scale": options.scale,
        "notes": notes,
        "api": results,
        "export": exported,
        "ingest": ingested,
        "refresh": refreshed,
        "load_during_sync": loaded,
        "at_rest": at_rest,
        "crawl": crawls,
    });
    write_json(&options.out, &json)
}

async fn crash_campaign(options: &Options) -> anyhow::Result<()> {
    let campaign = campaign::Campaign {
        kills: options.crash_kills,
        runs: options.crash_runs,
        users: options.crash_users,
        subjects: options.crash_subjects,
        latency_ms: options.crash_latency_ms,
        graphql: options.crash_api == "graphql",
    };
    let mut outcomes = Vec::new();
    for backend in &options.backends() {
        outcomes.extend(campaign::on(backend, &campaign).await?);
    }
    println!("crash campaign, {} kills a run:", campaign.kills);
    campaign::print(&outcomes);
    write_json(
        &options.out,
        &serde_json::json!({ "crash_campaign": outcomes }),
    )
}

fn write_json(out: &str, json: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(parent) = std::path::Path::new(out).parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(json)?)?;
    println!("figures written to {out}");
    Ok(())
}

/// The API measured on `backend`, on a graph of `scale` (generated, or reused with `--keep`).
async fn api_on(
    backend: &str,
    options: &Options,
    scale: Scale,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Measured>> {
    let keep = options.keep;
    let (url, _guard) = match (keep, backend) {
        (true, "postgres") => (kept_postgres(&options.scale).await?, None),
        (true, _) => {
            std::fs::create_dir_all("target/bench")?;
            let file = format!("target/bench/gitomatic_bench_{}.db", options.scale);
            (format!("sqlite://{file}"), None)
        }
        (false, _) => database(backend, &options.scale).await?,
    };
    let db = Db::connect(&DatabaseUrl::new(url.clone()), 10).await?;
    db.migrate().await?;
    if keep && generate::is_complete(&db, scale).await? {
        notes.push(format!("{backend}: reused the {scale:?} graph"));
    } else {
        eprintln!("{backend}: generating the {} graph…", options.scale);
        let took = if options.bulk {
            bulk::generate(&url, scale).await?
        } else {
            generate::generate(&db, scale).await?
        };
        notes.push(format!(
            "{backend}: generated {scale:?} in {:.1} s",
            took.as_secs_f64()
        ));
    }
    db.save_user(USER, &password::hash(PASSWORD)).await?;
    let measured = measure_api(backend, &url, &db, options.seconds, notes).await?;
    db.close().await;
    Ok(measured)
}

/// A fresh database for `backend`: a file in a temporary folder, or a PostgreSQL database
/// (recreated) on the server `BENCH_DATABASE_URL` names (default: the local one).
async fn database(
    backend: &str,
    scale: &str,
) -> anyhow::Result<(String, Option<tempfile::TempDir>)> {
    match backend {
        "sqlite" => {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            Ok((url, Some(dir)))
        }
        "postgres" => {
            let (admin, name) = bench_server_and_name(scale);
            let mut connection = sqlx::PgConnection::connect(&admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut connection)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut connection)
                .await?;
            Ok((bench_database_url(scale)?, None))
        }
        other => anyhow::bail!("unknown backend {other}"),
    }
}

/// The URL of the PostgreSQL database a run at `scale` keeps, created if it is missing.
async fn kept_postgres(scale: &str) -> anyhow::Result<String> {
    let (admin, name) = bench_server_and_name(scale);
    let mut connection = sqlx::PgConnection::connect(&admin).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut connection)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await?;
    }
    bench_database_url(scale)
}

/// The PostgreSQL server `BENCH_DATABASE_URL` names (default: the local one), and the
/// database a run at `scale` uses there.
fn bench_server_and_name(scale: &str) -> (String, String) {
    let admin = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    (admin, format!("gitomatic_bench_{scale}"))
}

fn bench_database_url(scale: &str) -> anyhow::Result<String> {
    let (admin, name) = bench_server_and_name(scale);
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&name);
    // Loopback needs no TLS, as for a service and its database on one host; TLS to a local
    // server costs both sides about a tenth of a list request's CPU.
    if !url.query_pairs().any(|(key, _)| key == "sslmode") {
        url.query_pairs_mut().append_pair("sslmode", "disable");
    }
    Ok(url.to_string())
}

/// `?omit=` of every URL list a developer carries: the ranking without its lists.
const NO_LISTS: &str = "followers,following,starred_repositories,repositories";

async fn measure_api(
    backend: &str,
    url: &str,
    db: &Db,
    seconds: u32,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Measured>> {
    let config = Config {
        database_url: DatabaseUrl::new(url.to_owned()),
        database_max_connections: 10,
        bind: "127.0.0.1:0".parse()?,
        workers: 0,
        discovery_schedule: String::new(),
        heartbeat_schedule: String::new(),
        refresh_schedule: String::new(),
        ..Config::default()
    };
    let app = Serving::start(config).await?;
    let base = app.base.clone();
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .get(format!("{base}/github/auth_token/"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await?
        .json()
        .await?;
    let bearer = format!(
        "Authorization: Bearer {}",
        token["auth_token"].as_str().unwrap_or_default()
    );
    let basic = format!(
        "Authorization: Basic {}",
        base64_of(&format!("{USER}:{PASSWORD}"))
    );
    // The most-followed developer, one from the middle of the list (typical), the page
    // half-way through the list, and the developer there by most followers first.
    let (busiest, typical, pages, middle): (
        uuid::Uuid,
        uuid::Uuid,
        i64,
        Option<(Option<i64>, uuid::Uuid)>,
    ) = with_pool!(db, |pool| {
        let (busiest, typical, pages) = sqlx::query_as(
                "SELECT (SELECT followee_id FROM follows GROUP BY followee_id ORDER BY COUNT(*) DESC LIMIT 1), \
                 (SELECT id FROM developers ORDER BY created_at DESC NULLS LAST, id \
                     LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM developers)), \
                 (SELECT (COUNT(*) + 9) / 10 FROM developers)",
            )
            .fetch_one(pool)
            .await?;
        let middle = sqlx::query_as(
            "SELECT followers_count, id FROM developers \
                 ORDER BY followers_count DESC NULLS LAST, id LIMIT 1 OFFSET $1",
        )
        .bind(pages * 5)
        .fetch_optional(pool)
        .await?;
        Ok::<_, sqlx::Error>((busiest, typical, pages, middle))
    })?;
    // A cursor as the list's links carry it (`http/cursor.rs`), at that developer.
    let cursor = middle.map_or_else(String::new, |(followers, id)| {
        let position = serde_json::json!({
            "f": "followers_count",
            "v": followers.map(|n| n.to_string()),
            "id": id,
        });
        base64_url_of(&position.to_string())
    });
    let four_weeks_ago = (chrono::Utc::now() - chrono::Duration::days(28)).format("%Y-%m-%d");
    // The first page again, compressed, and asked for with the tag of the answer it has.
    let list = format!("{base}/github/developers/");
    let mut sizes = Vec::new();
    let mut tag = String::new();
    for encoding in ["identity", "gzip", "br"] {
        let answer = client
            .get(&list)
            .basic_auth(USER, Some(PASSWORD))
            .header("accept-encoding", encoding)
            .send()
            .await?;
        if encoding == "identity" {
            tag = answer
                .headers()
                .get("etag")
                .and_then(|tag| tag.to_str().ok())
                .unwrap_or_default()
                .to_owned();
        }
        sizes.push(format!("{encoding} {} bytes", answer.bytes().await?.len()));
    }
    notes.push(format!(
        "{backend}: the developers list's first page: {}",
        sizes.join(", ")
    ));
    let gzip = "Accept-Encoding: gzip".to_owned();
    let unchanged = format!("If-None-Match: {tag}");
    // (what the table calls it, path, whether it needs credentials, a header of its own)
    let ordered = |path: &str| (path.to_owned(), path.to_owned(), true, None::<&String>);
    let endpoints = [
        ("/health/".to_owned(), "/health/".to_owned(), false, None),
        ("/github/".to_owned(), "/github/".to_owned(), false, None),
        (
            "/github/developers/".to_owned(),
            "/github/developers/".to_owned(),
            true,
            None,
        ),
        (
            "/github/developers/ gzip".to_owned(),
            "/github/developers/".to_owned(),
            true,
            Some(&gzip),
        ),
        (
            "/github/developers/ If-None-Match: 304".to_owned(),
            "/github/developers/".to_owned(),
            true,
            Some(&unchanged),
        ),
        (
            "/github/developers/?page=100".to_owned(),
            "/github/developers/?page=100".to_owned(),
            true,
            None,
        ),
        (
            "/github/developers/?page={half}".to_owned(),
            format!("/github/developers/?page={}", pages / 2),
            true,
            None,
        ),
        (
            "/github/repositories/?language=Rust&stargazers_count__gte=1".to_owned(),
            "/github/repositories/?language=Rust&stargazers_count__gte=1".to_owned(),
            true,
            None,
        ),
        ordered("/github/developers/?ordering=-followers_count"),
        ordered(&format!(
            "/github/developers/?ordering=-followers_count&omit={NO_LISTS}"
        )),
        ordered("/github/developers/?search=code"),
        ordered("/github/developers/?location__contains=Berlin&ordering=-followers_count"),
        ordered(&format!(
            "/github/developers/?location__contains=Berlin&ordering=-followers_count&omit={NO_LISTS}"
        )),
        (
            "/github/developers/?ordering=-followers_count&cursor={middle}".to_owned(),
            format!("/github/developers/?ordering=-followers_count&cursor={cursor}"),
            true,
            None,
        ),
        ordered("/github/repositories/?language=Rust&ordering=-stargazers_count"),
        ordered("/github/repositories/?ordering=-size"),
        ordered("/github/repositories/?language=Go&ordering=-size"),
        ordered("/github/developers/?ordering=-repositories_size"),
        ordered(&format!(
            "/github/developers/?ordering=-repositories_size&omit={NO_LISTS}"
        )),
        (
            "/github/repositories/?since={28 days ago}&ordering=-stars_gained".to_owned(),
            format!("/github/repositories/?since={four_weeks_ago}&ordering=-stars_gained"),
            true,
            None,
        ),
        (
            "/github/repositories/?since={28 days ago}&ordering=-stars_gained&omit=stargazers"
                .to_owned(),
            format!(
                "/github/repositories/?since={four_weeks_ago}&ordering=-stars_gained\
                 &omit=stargazers"
            ),
            true,
            None,
        ),
        (
            "/github/developers/{typical}/".to_owned(),
            format!("/github/developers/{typical}/"),
            true,
            None,
        ),
        (
            "/github/developers/{busiest}/".to_owned(),
            format!("/github/developers/{busiest}/"),
            true,
            None,
        ),
    ];
    let mut measured = Vec::new();
    for connections in [10, 50] {
        for (auth, credentials) in [("basic", &basic), ("bearer", &bearer)] {
            let mut health = None;
            for (endpoint, path, needs_auth, own) in &endpoints {
                let headers: Vec<String> = needs_auth
                    .then(|| credentials.clone())
                    .into_iter()
                    .chain(own.cloned())
                    .collect();
                let target = format!("{base}{path}");
                if connections == 10 && auth == "basic" {
                    single(&client, &target, &headers, &format!("{backend} {endpoint}")).await?;
                }
                let report = tokio::task::spawn_blocking(move || {
                    api::wrk(&target, &headers, connections, seconds)
                })
                .await??;
                let (rps, p50, p99) = (report.requests_per_second, report.p50_ms, report.p99_ms);
                // The requests wrk left in flight still run on the server: the next cell
                // starts once they are done, not beside them.
                tokio::time::sleep(Duration::from_secs_f64((p99 / 1e3).min(5.0))).await;
                let errors = report.non_2xx + report.socket_errors;
                if path == "/health/" {
                    health = Some(rps);
                }
                eprintln!(
                    "{backend} {auth} c={connections} {endpoint}: {rps:.0} req/s p50 {p50:.2} ms p99 {p99:.2} ms errors {errors}"
                );
                measured.push(Measured {
                    backend: backend.to_owned(),
                    endpoint: endpoint.clone(),
                    auth: auth.to_owned(),
                    connections,
                    requests_per_second: rps,
                    p50_ms: p50,
                    p99_ms: p99,
                    errors,
                    ratio_to_health: health.map(|h| rps / h),
                });
            }
        }
    }
    app.stop().await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(measured)
}

/// The app serving in this process on a local port, until `stop`.
pub struct Serving {
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Serving {
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let app = App::build(config).await?;
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Ok(Self { base, stop, server })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await?
    }
}

pub fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// URL-safe base64 without padding, as cursors are written.
/// One request alone, before wrk measures `target` under load: it warms what a first
/// request fills (the count cache: a large count is taken once a minute, not per request),
/// and tells what a request costs free of the others, with the answer's size.
async fn single(
    client: &reqwest::Client,
    target: &str,
    headers: &[String],
    name: &str,
) -> anyhow::Result<()> {
    let mut request = client.get(target);
    for header in headers {
        if let Some((key, value)) = header.split_once(": ") {
            request = request.header(key, value);
        }
    }
    let started = std::time::Instant::now();
    let size = request.send().await?.bytes().await?.len();
    let took = started.elapsed().as_secs_f64() * 1e3;
    eprintln!("{name}: alone {took:.1} ms, {size} bytes");
    Ok(())
}

fn base64_url_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn print_table(results: &[Measured]) {
    if results.is_empty() {
        return;
    }
    println!(
        "{:<9} {:<7} {:>4}  {:<58} {:>9} {:>8} {:>8} {:>6} {:>7}",
        "backend", "auth", "conn", "endpoint", "req/s", "p50 ms", "p99 ms", "errors", "÷health"
    );
    for m in results {
        println!(
            "{:<9} {:<7} {:>4}  {:<58} {:>9.0} {:>8.2} {:>8.2} {:>6} {:>7}",
            m.backend,
            m.auth,
            m.connections,
            m.endpoint,
            m.requests_per_second,
            m.p50_ms,
            m.p99_ms,
            m.errors,
            m.ratio_to_health
                .map_or_else(|| "-".to_owned(), |r| format!("{:.3}", r)),
        );
    }
}

fn print_ingest(ingested: &[ingest::Ingested]) {
    for i in ingested {
        println!(
            "{}: full profile sync of a user with {} followers: {} edges in {:.1} s of list \
             pages = {:.0} edges/s; {} profiles; {:.1} s in all; GitHub requests {} (floor {}); \
             peak RSS {:.1} MB",
            i.backend,
            i.followers,
            i.edges,
            i.edge_seconds,
            i.edges_per_second,
            i.profiles,
            i.wall_seconds,
            i.github_requests,
            i.github_floor,
            i.peak_rss_mb,
        );
    }
}
