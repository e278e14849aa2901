//! The dashboard's history, kept by every process that runs workers: each minute it adds the
//! GitHub requests it sent to the hour's count, and each ten minutes it samples the records
//! known and complete, and counts the figures too dear to count at every scrape (one sample a
//! bucket, whichever process takes it first).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, Timestamp};
use crate::metrics::UnsavedRequests;
use crate::sync::Syncer;

const TICK: Duration = Duration::from_secs(60);
const SAMPLE_BUCKET_SECONDS: i64 = 600;

/// Keeps the history until `stop`, then saves the requests `syncer` sent not saved yet.
pub async fn keep(db: Db, syncer: Arc<Syncer>, stop: CancellationToken) {
    let unsaved = syncer.github().unsaved_requests();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sampled = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => break,
        }
        save_github_requests(&db, unsaved).await;
        let bucket = bucket_of(Timestamp::now(), SAMPLE_BUCKET_SECONDS);
        if sampled != Some(bucket) && sample_records(&db, bucket).await {
            sampled = Some(bucket);
        }
    }
    save_github_requests(&db, unsaved).await;
}

/// `at`, rounded down to a multiple of `seconds` since the epoch.
pub fn bucket_of(at: Timestamp, seconds: i64) -> Timestamp {
    let epoch = at.0.timestamp();
    let start = epoch - epoch.rem_euclid(seconds);
    Timestamp(chrono::DateTime::from_timestamp(start, 0).unwrap_or(at.0))
}

/// Adds the requests sent since the last save to the current hour's; kept for the next save
/// when the database cannot take them.
pub async fn save_github_requests(db: &Db, unsaved: &UnsavedRequests) {
    let hour = bucket_of(Timestamp::now(), 3600);
    let mut taken = unsaved.take().into_iter();
    while let Some((resource, requests)) = taken.next() {
        if let Err(err) = db.add_github_requests(hour, &resource, requests).await {
            tracing::warn!(error = %err, "cannot save the GitHub requests per hour yet");
            unsaved.add(&resource, requests);
            for (resource, requests) in taken {
                unsaved.add(&resource, requests);
            }
            return;
        }
    }
}

/// Samples the records into `bucket`, with the costly figures (`db::figures`); whether the
/// sample is kept (by this process or another).
pub async fn sample_records(db: &Db, bucket: Timestamp) -> bool {
    let saved = sample(db, bucket).await;
    if let Err(err) = &saved {
        tracing::warn!(error = %err, "cannot sample the records for the dashboard");
    }
    saved.is_ok()
}

async fn sample(db: &Db, bucket: Timestamp) -> sqlx::Result<()> {
    // Another process's sample saves this one counting the figures again.
    if db.record_sampled(bucket).await? {
        return Ok(());
    }
    db.save_record_sample(&db.record_sample(bucket).await?)
        .await?;
    db.save_figures(bucket, &db.count_figures().await?).await
}
