//! `App`: the service assembled from a `Config`, bound and ready to run.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::db::Db;
use crate::db::count_cache::CountCache;
use crate::github::GitHub;
use crate::http;
use crate::http::MetricsState;
use crate::jobs::Background;
use crate::state::AppState;
use crate::sync::{DbLedger, SyncSettings, Syncer};

pub struct App {
    listener: TcpListener,
    /// `metrics_bind`'s listener, when set.
    metrics_listener: Option<TcpListener>,
    router: axum::Router,
    db: Db,
    /// The workers' and the scheduler's own pool, so that API load cannot starve a sync of
    /// connections, nor a sync the API.
    work_db: Db,
    config: Arc<Config>,
    syncer: Arc<Syncer>,
}

impl App {
    /// Connects to the database, applies pending migrations and binds the listener,
    /// so a returned `App` is known to be able to serve.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = connect_and_migrate(&config).await?;
        if db.user_count().await? == 0 {
            tracing::warn!(
                "no API user exists yet, so every /github/ route will refuse requests; \
                 create one with: gitomatic create-user NAME"
            );
        }
        // Two connections for each worker (a list page is written while the next page's
        // stored validators are read), one for the lease keepers and one for the scheduler.
        let work_db = Db::connect(&config.database_url, 2 * config.workers + 2).await?;
        let syncer = syncer(&work_db, &config)?;
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let metrics_listener = bind_metrics(&config).await?;
        let auth = Authenticator::new(
            config.secret_key.as_ref(),
            Duration::from_secs(config.token_lifetime_seconds),
            config.login_failures_per_minute,
        );
        let config = Arc::new(config);
        let state = AppState {
            db: db.clone(),
            work_db: work_db.clone(),
            config: config.clone(),
            auth: Arc::new(auth),
            // A download holds one of the API's connections: one at least is left to the rest.
            exports: Arc::new(tokio::sync::Semaphore::new(http::CONCURRENT_EXPORTS.min(
                usize::try_from(config.database_max_connections.saturating_sub(1)).unwrap_or(0),
            ))),
            counts: Arc::new(CountCache::new(
                Duration::from_secs(config.count_cache_seconds),
                config.count_cache_rows,
            )),
        };
        Ok(Self {
            listener,
            metrics_listener,
            router: http::router(state),
            db,
            work_db,
            config,
            syncer,
        })
    }

    /// The app's own database handle; its statement count is the app's.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Where `metrics_bind` serves, when set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// Serves, with the configured workers and scheduler, until `shutdown` completes; then
    /// lets in-flight requests finish and workers release their jobs.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let workers = self.config.workers;
        let background =
            Background::start(&self.work_db, self.syncer.clone(), &self.config, workers).await?;
        tracing::info!(address = %self.local_addr(), workers, "listening");
        let metrics = serve_metrics(
            self.metrics_listener,
            MetricsState::of_server(&self.db, &self.work_db),
            &self.config,
        );
        let header_read_timeout = Duration::from_secs(self.config.header_read_timeout_seconds);
        http::serve(self.listener, self.router, header_read_timeout, shutdown).await;
        metrics.cancel();
        background.stop().await;
        self.db.close().await;
        self.work_db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Binds `metrics_bind`, when set, and installs the process's metrics recorder either way.
pub async fn bind_metrics(config: &Config) -> anyhow::Result<Option<TcpListener>> {
    crate::metrics::install();
    let Some(address) = config.metrics_bind else {
        return Ok(None);
    };
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for metrics on {address}"))?;
    Ok(Some(listener))
}

/// Serves `/metrics` on `listener`, if any, until the returned token is cancelled.
pub fn serve_metrics(
    listener: Option<TcpListener>,
    state: MetricsState,
    config: &Config,
) -> CancellationToken {
    let stop = CancellationToken::new();
    if let Some(listener) = listener {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "serving metrics");
        }
        let header_read_timeout = Duration::from_secs(config.header_read_timeout_seconds);
        let stopped = stop.clone().cancelled_owned();
        tokio::spawn(http::serve(
            listener,
            http::metrics_router(state),
            header_read_timeout,
            stopped,
        ));
    }
    stop
}

/// Opens the configured database and brings its schema up to date.
pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, config.database_max_connections).await?;
    db.migrate().await.with_context(|| {
        format!(
            "cannot apply migrations to {}",
            config.database_url.redacted()
        )
    })?;
    tracing::info!(database = %config.database_url.redacted(), "database ready");
    Ok(db)
}

/// The one GitHub client of the process (sharing its credential's budget with the other
/// processes on the database), and the sync engine over it.
pub fn syncer(db: &Db, config: &Config) -> anyhow::Result<Arc<Syncer>> {
    let ledger = Arc::new(DbLedger::new(db.clone(), config));
    let github = GitHub::new(config, ledger).context("cannot set up the GitHub client")?;
    let settings = SyncSettings {
        probe_every: std::time::Duration::from_secs(config.github_restriction_probe_seconds),
        star_history_stars: config.star_history_stars,
    };
    Ok(Arc::new(Syncer::new(
        db.clone(),
        Arc::new(github),
        settings,
    )))
}

/// Completes on Ctrl-C or SIGTERM (what Heroku, Docker and systemd send to stop a process).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
