//! The scheduler and workers of one process, started and stopped together.

use std::sync::Arc;

use tokio_cron_scheduler::JobScheduler;
use tokio_util::sync::CancellationToken;

use super::{history, scheduler, worker};
use crate::config::Config;
use crate::db::Db;
use crate::sync::Syncer;

/// The scheduler and workers of one process, stopped together.
pub struct Background {
    stop: CancellationToken,
    workers: Vec<tokio::task::JoinHandle<()>>,
    history: tokio::task::JoinHandle<()>,
    scheduler: Option<JobScheduler>,
}

impl Background {
    /// Starts `workers` workers, the scheduler's non-empty schedules and the keeping of the
    /// dashboard's history.
    pub async fn start(
        db: &Db,
        syncer: Arc<Syncer>,
        config: &Config,
        workers: u32,
    ) -> anyhow::Result<Self> {
        let stop = CancellationToken::new();
        let scheduler = scheduler::start(db, config).await?;
        let settings = worker::WorkerSettings::from_config(config);
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "gitomatic".to_owned());
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let workers = (0..workers)
            .map(|n| {
                let name = format!("{host}-{}-{n}", &instance[..8]);
                let worker =
                    worker::Worker::new(db.clone(), syncer.clone(), name, settings.clone());
                let stop = stop.clone();
                tokio::spawn(async move { worker.run(stop).await })
            })
            .collect();
        let history = tokio::spawn(history::keep(db.clone(), syncer, stop.clone()));
        Ok(Self {
            stop,
            workers,
            history,
            scheduler,
        })
    }

    /// Stops the scheduler, and the workers after each releases (or finishes) its job.
    pub async fn stop(mut self) {
        if let Some(scheduler) = self.scheduler.as_mut() {
            if let Err(err) = scheduler.shutdown().await {
                tracing::warn!(error = %err, "the scheduler did not stop cleanly");
            }
        }
        self.stop.cancel();
        for worker in self.workers {
            let _ = worker.await;
        }
        let _ = self.history.await;
    }
}
