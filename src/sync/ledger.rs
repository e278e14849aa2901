//! The GitHub client's shared budget kept in the database, so that every process on it sees
//! the others: at most `github_max_in_flight` requests in flight per credential, and each
//! quota as any of them last heard it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use crate::config::Config;
use crate::db::github_slots::{pause_stmt, release_stmt};
use crate::db::rate_limits::{QuotaRecord, store_stmt};
use crate::db::{Db, Timestamp};
use crate::github::Quota;
use crate::github::ledger::{Ledger, LedgerFuture, Place};

/// How long a free place is waited for between two looks.
const LOOK_AGAIN: Duration = Duration::from_millis(10);

pub struct DbLedger {
    db: Db,
    places: i64,
    /// How long a request may hold its place (asking `/rate_limit` and then itself, each
    /// within the time-out, and a margin): past this, its process is taken for dead.
    lease: Duration,
    /// The credentials whose places this process has made sure of.
    added: Mutex<HashSet<String>>,
    /// What this process last stored of each quota (remaining, reset), so that an unchanged
    /// quota is not written again.
    stored: Mutex<HashMap<(String, String), (i64, i64)>>,
}

impl DbLedger {
    pub fn new(db: Db, config: &Config) -> Self {
        Self {
            db,
            places: i64::from(config.github_max_in_flight),
            lease: Duration::from_secs(2 * config.github_timeout_seconds + 5),
            added: Mutex::default(),
            stored: Mutex::default(),
        }
    }

    async fn take(&self, credential: &str) -> sqlx::Result<Place> {
        let known = self
            .added
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(credential);
        if !known {
            self.db.add_github_slots(credential, self.places).await?;
            self.added
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(credential.to_owned());
        }
        loop {
            let until = Timestamp(chrono::Utc::now() + self.lease);
            // The claim runs as a task of its own: an acquire dropped while its claim is on
            // the way (its job stopped) cannot tell whether the database took it, so the
            // claim sees itself through and gives back what nobody is left to take.
            let claim = claim(self.db.clone(), credential.to_owned(), self.places, until);
            let claimed = tokio::spawn(claim)
                .await
                .map_err(|err| sqlx::Error::Protocol(format!("claiming a place failed: {err}")))?;
            if let Some(place) = claimed?.and_then(Claimed::into_place) {
                return Ok(place);
            }
            // Paused, or every place held: wait for what stops it, looking with reads.
            if let Some(until) = self.db.github_paused_until(credential).await? {
                let wait = (until.0 - chrono::Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                continue;
            }
            while !self.db.github_slot_free(credential, self.places).await? {
                tokio::time::sleep(LOOK_AGAIN + LOOK_AGAIN.mul_f64(fastrand::f64())).await;
            }
        }
    }

    /// The quotas of `observed` that differ from what this process last stored.
    fn changed(&self, credential: &str, observed: &[Quota]) -> Vec<Quota> {
        let mut stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        observed
            .iter()
            .filter(|quota| {
                let key = (credential.to_owned(), quota.resource.clone());
                stored.insert(key, (quota.remaining, quota.reset))
                    != Some((quota.remaining, quota.reset))
            })
            .cloned()
            .collect()
    }
}

async fn claim(
    db: Db,
    credential: String,
    places: i64,
    until: Timestamp,
) -> sqlx::Result<Option<Claimed>> {
    let holder = uuid::Uuid::new_v4().to_string();
    let slot = db
        .claim_github_slot(&credential, places, &holder, until)
        .await?;
    Ok(slot.map(|slot| Claimed {
        db,
        place: Some(Place {
            credential,
            slot,
            holder,
        }),
    }))
}

/// A place claimed for an acquire, given back if it is dropped before the acquire takes it.
struct Claimed {
    db: Db,
    place: Option<Place>,
}

impl Claimed {
    fn into_place(mut self) -> Option<Place> {
        self.place.take()
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        let (Some(place), Ok(runtime)) = (self.place.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let db = self.db.clone();
        runtime.spawn(async move {
            let released = release_stmt(&place.credential, place.slot, &place.holder);
            if let Err(err) = db.run_in_transaction(&[released]).await {
                tracing::warn!(error = %err, "cannot give back a place nobody took");
            }
        });
    }
}

impl Ledger for DbLedger {
    fn acquire<'a>(&'a self, credential: &'a str) -> LedgerFuture<'a, Place> {
        Box::pin(async move { Ok(self.take(credential).await?) })
    }

    fn release<'a>(&'a self, place: Place, observed: &'a [Quota]) -> LedgerFuture<'a, ()> {
        Box::pin(async move {
            let now = Timestamp::now();
            let mut statements = vec![release_stmt(&place.credential, place.slot, &place.holder)];
            let changed = self.changed(&place.credential, observed);
            statements.extend(changed.iter().map(|quota| {
                let record = QuotaRecord {
                    credential: place.credential.clone(),
                    resource: quota.resource.clone(),
                    limit: quota.limit,
                    remaining: quota.remaining,
                    reset: quota.reset,
                };
                store_stmt(&record, now)
            }));
            Ok(self.db.run_in_transaction(&statements).await?)
        })
    }

    fn pause<'a>(
        &'a self,
        credential: &'a str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> LedgerFuture<'a, ()> {
        Box::pin(async move {
            let paused = pause_stmt(credential, Timestamp(until));
            Ok(self.db.run_in_transaction(&[paused]).await?)
        })
    }

    fn quotas<'a>(&'a self, credential: &'a str) -> LedgerFuture<'a, Vec<Quota>> {
        Box::pin(async move {
            let stored = self.db.stored_quotas(credential).await?;
            Ok(stored
                .into_iter()
                .map(|record| Quota {
                    resource: record.resource,
                    limit: record.limit,
                    remaining: record.remaining,
                    reset: record.reset,
                })
                .collect())
        })
    }
}
