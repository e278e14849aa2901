//! The database going away under a running sync and API traffic. A proxy between the app
//! and PostgreSQL stands in for the server stopping: it resets every open connection and
//! refuses new ones until it is restored, which is what the app sees of a stop, without
//! stopping the server the other tests share.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gitomatic::config::{DatabaseUrl, Secret};
use gitomatic::with_pool;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::fake_github::{FakeGitHub, Graph, Shape};
use crate::helpers::{Backend, Fixture, TestApp, TestDb};
use crate::sync::{expected, stored};

struct Proxy {
    address: SocketAddr,
    open: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0);
        let (accepting, cut) = (open.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let mut cut = cut.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy {
            address,
            open,
            cuts,
        }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Statuses seen by a client that keeps asking for the developers list.
#[derive(Default)]
struct Load {
    ok: AtomicUsize,
    unavailable: AtomicUsize,
    other: std::sync::Mutex<Vec<String>>,
}

#[tokio::test]
async fn a_database_outage_answers_503_and_the_sync_completes_after_it() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let upstream: SocketAddr = format!(
        "{}:{}",
        url.host_str().unwrap().replace("localhost", "127.0.0.1"),
        url.port().unwrap_or(5432)
    )
    .parse()
    .unwrap();
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.address.port())).unwrap();
    let shape = Shape {
        followers: 600,
        following: 60,
        repos: 12,
        starred: 40,
        max_stargazers: 160,
        seed: 21,
    };
    let fake = FakeGitHub::start(Graph::generate(shape)).await;
    let github = fake.url.clone();
    let app = TestApp::start(db, move |config| {
        config.database_url = DatabaseUrl::new(url.to_string());
        config.workers = 1;
        config.job_poll_ms = 20;
        config.github_api_url = github;
        config.github_token = Some(Secret::new("fake-token"));
        // The cut is timed by REST requests.
        config.github_graphql = false;
    })
    .await;
    let app = Arc::new(app);

    // API traffic throughout: before, during and after the outage.
    let load = Arc::new(Load::default());
    let stop_load = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (app, load, stop) = (app.clone(), load.clone(), stop_load.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let response = app.get_auth("/github/developers/").await;
                match response.status() {
                    StatusCode::OK => load.ok.fetch_add(1, Ordering::SeqCst),
                    StatusCode::SERVICE_UNAVAILABLE => {
                        let body: Value = response.json().await.unwrap();
                        assert_eq!(
                            body,
                            json!({"detail": "The database is unavailable. Try again shortly."})
                        );
                        load.unavailable.fetch_add(1, Ordering::SeqCst)
                    }
                    other => {
                        let seen =
                            format!("{other}: {}", response.text().await.unwrap_or_default());
                        load.other.lock().unwrap().push(seen);
                        0
                    }
                };
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    app.queue_profile_sync("center").await;
    // Cut while the sync is under way: after it has fetched some pages, before the end.
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.counted() < 50 {
        assert!(Instant::now() < deadline, "the sync did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.cut();
    let cut_at = fake.counted();
    let outage = Instant::now();
    let mut ready_seen = Vec::new();
    while outage.elapsed() < Duration::from_secs(4) {
        let health = app.get("/health/").await;
        assert_eq!(
            health.status(),
            StatusCode::OK,
            "/health/ does not depend on the database"
        );
        let asked = Instant::now();
        let ready = app.get("/ready/").await;
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "/ready/ answers promptly"
        );
        ready_seen.push(ready.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ready_seen
            .iter()
            .all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "{ready_seen:?}"
    );
    let unavailable_during = load.unavailable.load(Ordering::SeqCst);
    assert!(
        unavailable_during > 0,
        "the API said 503 while the database was away"
    );
    assert!(
        fake.counted() < 600,
        "the sync was still unfinished when the database went away"
    );
    proxy.restore();

    // Back by itself: the job is taken up again and finishes.
    let deadline = Instant::now() + Duration::from_secs(120);
    let statuses = loop {
        let statuses: Vec<(String, i64)> = with_pool!(&app.db, |pool| sqlx::query_as(
            "SELECT status, attempts FROM jobs WHERE name = 'full_profile_sync'"
        )
        .fetch_all(pool)
        .await
        .unwrap_or_default());
        if statuses.iter().all(|(status, _)| status == "succeeded") && !statuses.is_empty() {
            break statuses;
        }
        assert!(
            Instant::now() < deadline,
            "the job did not finish after the outage: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        statuses,
        vec![("succeeded".to_owned(), 0)],
        "an outage costs the job no attempt"
    );
    assert_eq!(app.get("/ready/").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_load.store(true, Ordering::SeqCst);
    traffic.await.unwrap();

    let graph = fake.graph();
    assert_eq!(
        stored(&app.db).await,
        expected(&graph, "center"),
        "nothing lost"
    );
    let other = load.other.lock().unwrap().clone();
    assert!(other.is_empty(), "only 200 and 503 under load: {other:?}");
    eprintln!(
        "outage after {cut_at} GitHub requests: API answered {} × 200 and {} × 503; the sync finished with {} requests",
        load.ok.load(Ordering::SeqCst),
        load.unavailable.load(Ordering::SeqCst),
        fake.counted()
    );
}
