//! The scheduler only enqueues: the discovery scraper and the heartbeat on their cron
//! schedules. Enqueueing deduplicates, so several instances each running a scheduler still
//! queue one discovery an hour.

use anyhow::Context;
use tokio_cron_scheduler::{Job, JobScheduler};

use super::Task;
use crate::config::Config;
use crate::db::Db;

/// Starts the entries whose schedule is not empty; `None` when every entry is disabled.
pub async fn start(db: &Db, config: &Config) -> anyhow::Result<Option<JobScheduler>> {
    let entries = [
        (config.discovery_schedule.trim(), Task::DiscoveryScraper),
        (config.heartbeat_schedule.trim(), Task::Heartbeat),
    ];
    let entries: Vec<_> = entries
        .into_iter()
        .filter(|(schedule, _)| !schedule.is_empty())
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let scheduler = JobScheduler::new()
        .await
        .context("cannot start the scheduler")?;
    for (schedule, task) in entries {
        let db = db.clone();
        let name = task.name();
        let job = Job::new_async(schedule, move |_, _| {
            let (db, task) = (db.clone(), task.clone());
            Box::pin(async move {
                match task.enqueue(&db).await {
                    Ok(enqueued) => tracing::debug!(job = %enqueued.id(), name = %task.name(), "scheduled job queued"),
                    Err(err) => tracing::warn!(error = %err, name = %task.name(), "cannot queue a scheduled job"),
                }
            })
        })
        .with_context(|| format!("invalid schedule {schedule:?} for {name}"))?;
        scheduler
            .add(job)
            .await
            .with_context(|| format!("cannot schedule {name}"))?;
        tracing::info!(%name, schedule, "scheduled");
    }
    scheduler
        .start()
        .await
        .context("cannot start the scheduler")?;
    Ok(Some(scheduler))
}
