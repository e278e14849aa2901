//! The scheduler enqueues the discovery scraper, the heartbeat and the refresh on their cron
//! schedules (enqueueing deduplicates, so several instances each running a scheduler still
//! queue one discovery an hour), and keeps the job history within `job_retention_days`.

use anyhow::Context;
use tokio_cron_scheduler::{Job, JobScheduler};

use super::Task;
use crate::config::Config;
use crate::db::{Db, Timestamp};

/// When ended jobs past their retention are deleted: every hour, at a minute the other
/// entries' defaults do not use.
const RETENTION_SCHEDULE: &str = "0 17 * * * *";

/// Starts the entries whose schedule is not empty, and the retention of the job history
/// unless it is off; `None` when all of them are.
pub async fn start(db: &Db, config: &Config) -> anyhow::Result<Option<JobScheduler>> {
    let refresh = Task::RefreshDue {
        days: config.refresh_days,
        batch: config.refresh_batch,
        share_percent: (config.refresh_share * 100.0).round() as u32,
    };
    let refresh_schedule = match config.refresh_days {
        0 => "",
        _ => config.refresh_schedule.trim(),
    };
    let entries = [
        (config.discovery_schedule.trim(), Task::DiscoveryScraper),
        (config.heartbeat_schedule.trim(), Task::Heartbeat),
        (refresh_schedule, refresh),
    ];
    let entries: Vec<_> = entries
        .into_iter()
        .filter(|(schedule, _)| !schedule.is_empty())
        .collect();
    let retention = (config.job_retention_days > 0)
        .then(|| chrono::Duration::days(config.job_retention_days.into()));
    if entries.is_empty() && retention.is_none() {
        return Ok(None);
    }
    let scheduler = JobScheduler::new()
        .await
        .context("cannot start the scheduler")?;
    if let Some(retention) = retention {
        // Once at start, then every hour: deleting a day's worth of ended jobs is cheap.
        tokio::spawn(forget_ended_jobs(db.clone(), retention));
        let db = db.clone();
        let job = Job::new_async(RETENTION_SCHEDULE, move |_, _| {
            Box::pin(forget_ended_jobs(db.clone(), retention))
        })
        .context("invalid retention schedule")?;
        scheduler
            .add(job)
            .await
            .context("cannot schedule the job history's retention")?;
    }
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

async fn forget_ended_jobs(db: Db, retention: chrono::Duration) {
    let before = Timestamp(chrono::Utc::now() - retention);
    match db.forget_jobs_ended_before(before).await {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "ended jobs past their retention deleted"),
        Err(err) => tracing::warn!(error = %err, "cannot delete ended jobs past their retention"),
    }
    if let Err(err) = db.forget_history_before(before).await {
        tracing::warn!(error = %err, "cannot delete the dashboard's history past its retention");
    }
}
