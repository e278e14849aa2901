//! The test harness: a fresh database per test on each backend, and the real app on port 0.

use std::future::Future;
use std::process::Command;

use gitomatic::app::App;
use gitomatic::auth::password;
use gitomatic::config::{Config, DatabaseUrl, Secret};
use gitomatic::db::Db;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Something a test starts from; created per test and torn down when dropped.
pub trait Fixture: Sized {
    /// `None` when the backend is not available here (PostgreSQL without `TEST_DATABASE_URL`).
    fn create(backend: Backend) -> impl Future<Output = Option<Self>>;
}

/// Runs `test` against a fresh fixture on `backend`, or says why it was skipped.
pub async fn run<F: Fixture, Fut: Future<Output = ()>>(
    backend: Backend,
    test: impl FnOnce(F) -> Fut,
) {
    match F::create(backend).await {
        Some(fixture) => test(fixture).await,
        None => eprintln!("skipped on {backend:?}: TEST_DATABASE_URL is not set"),
    }
}

/// Runs each named test twice, as `<name>::sqlite` and `<name>::postgres`: the test is an
/// `async fn name(fixture: F)` written beside it, where rustfmt and clippy see it.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                $crate::helpers::run($crate::helpers::Backend::Sqlite, super::$name).await
            }

            #[tokio::test]
            async fn postgres() {
                $crate::helpers::run($crate::helpers::Backend::Postgres, super::$name).await
            }
        }
    )+};
}
pub(crate) use backend_tests;

/// A database of its own: a file in a temporary folder, or a PostgreSQL database with a
/// random name that is dropped (even after a failed test) when this is dropped.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl Fixture for TestDb {
    async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(Self {
                    url,
                    backend,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "CI must run the suite on PostgreSQL: set TEST_DATABASE_URL"
                    );
                    return None;
                };
                let name = format!("gitomatic_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Some(Self {
                    url: url.to_string(),
                    backend,
                    _dir: None,
                    postgres: Some((admin_url, name)),
                })
            }
        }
    }
}

impl TestDb {
    /// Another fresh database on the same backend.
    pub async fn sibling(&self) -> TestDb {
        TestDb::create(self.backend)
            .await
            .expect("the backend of an existing database")
    }

    /// Another handle on this same database, which leaves it in place when dropped.
    pub fn shared(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            backend: self.backend,
            _dir: None,
            postgres: None,
        }
    }

    pub async fn connect(&self) -> Db {
        Db::connect(&DatabaseUrl::new(self.url.clone()), 2)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which must not block on itself: use another.
        let database = name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {name}: {dropped:?}");
        }
    }
}

/// The API user every `TestApp` has.
pub const USER: &str = "tester";
pub const PASSWORD: &str = "correct horse battery staple";

/// The real app, serving on a random local port against its own database, with one API user.
pub struct TestApp {
    pub address: String,
    /// `http://` and `metrics_bind`'s address, when set.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    /// The app's own database handle: statements run through it are counted.
    pub db: Db,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    // Last, so the database outlives the server that uses it.
    _test_db: TestDb,
}

impl Fixture for TestApp {
    async fn create(backend: Backend) -> Option<Self> {
        Some(Self::start(TestDb::create(backend).await?, |_| {}).await)
    }
}

impl TestApp {
    /// Starts the app on `test_db` with the test settings, changed by `configure`.
    pub async fn start(test_db: TestDb, configure: impl FnOnce(&mut Config)) -> Self {
        init_test_logs();
        let mut config = Config {
            database_url: DatabaseUrl::new(test_db.url.clone()),
            database_max_connections: 5,
            bind: "127.0.0.1:0".parse().unwrap(),
            secret_key: Some(Secret::new("test signing key")),
            // Tests drive the queue themselves (Worker::run_until_idle), and a test that
            // starts workers crawls no further than it asks.
            workers: 0,
            discovery_top_up: false,
            discovery_schedule: String::new(),
            heartbeat_schedule: String::new(),
            refresh_schedule: String::new(),
            ..Config::default()
        };
        configure(&mut config);
        let app = App::build(config).await.expect("the app builds");
        let address = format!("http://{}", app.local_addr());
        let metrics_address = app
            .metrics_addr()
            .map(|address| format!("http://{address}"));
        let db = app.db().clone();
        db.save_user(USER, &password::hash(PASSWORD)).await.unwrap();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            address,
            metrics_address,
            client,
            db,
            shutdown: Some(shutdown),
            server: Some(server),
            _test_db: test_db,
        }
    }

    /// The URL of the app's database, for a command run beside it.
    pub fn database_url(&self) -> String {
        self._test_db.url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// An anonymous GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// A GET with the test user's Basic credentials.
    pub async fn get_auth(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .expect("request")
    }

    /// An authenticated GET whose answer is JSON.
    pub async fn json(&self, path: &str) -> (StatusCode, Value) {
        let response = self.get_auth(path).await;
        let status = response.status();
        let body = response.json().await.expect("a JSON body");
        (status, body)
    }

    /// Queues a full profile sync of `login` as the test user; the job's path.
    pub async fn queue_profile_sync(&self, login: &str) -> String {
        let posted = self
            .client
            .post(self.url("/github/tasks/"))
            .basic_auth(USER, Some(PASSWORD))
            .form(&[("name", "full_profile_sync"), ("username", login)])
            .send()
            .await
            .expect("request");
        assert_eq!(posted.status(), StatusCode::OK);
        let accepted: Value = posted.json().await.expect("a JSON body");
        let job = accepted["job"].as_str().expect("the job's URL");
        job.strip_prefix(&self.address)
            .expect("a link to this app")
            .to_owned()
    }

    /// The job at `path` once it has ended, succeeded or failed.
    pub async fn job_end(&self, path: &str) -> Value {
        loop {
            let (_, job) = self.json(path).await;
            if job["status"] == "succeeded" || job["status"] == "failed" {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops the server gracefully and reports how it ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.shutdown.take().expect("running").send(());
        self.server
            .take()
            .expect("running")
            .await
            .expect("server task")
    }
}

/// `TEST_LOG=1` shows the service's logs while tests run.
fn init_test_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        gitomatic::telemetry::init(gitomatic::config::LogFormat::Text);
    }
}

/// The `gitomatic` binary, run in `dir` with none of the service's variables inherited.
pub fn gitomatic(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gitomatic"));
    command.current_dir(dir);
    for name in [
        "DATABASE_URL",
        "DATABASE_MAX_CONNECTIONS",
        "PORT",
        "LOG_FORMAT",
        "SECRET_KEY",
        "GITHUB_API_URL",
        "GITHUB_TOKEN",
        "GITHUB_API_KEY",
        "GITHUB_API_USER",
        "RATE_LIMIT_STOP_THRESHOLD",
        "RUST_LOG",
        "GITHUB_GRAPHQL",
        "GITHUB_APP_ID",
        "GITHUB_APP_PRIVATE_KEY",
        "GITHUB_APP_INSTALLATION_ID",
        "DISCOVERY_TOP_UP",
        "REQUEST_TIMEOUT_SECONDS",
        "HEADER_READ_TIMEOUT_SECONDS",
        "CORS_ALLOWED_ORIGINS",
        "METRICS_BIND",
        "JOB_RETENTION_DAYS",
    ] {
        command.env_remove(name);
    }
    command
}
