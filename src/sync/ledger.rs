//! The GitHub client's shared budget kept in the database, so that every process on it sees
//! the others: at most `github_max_in_flight` requests in flight per credential, and each
//! quota as any of them last heard it.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use crate::config::Config;
use crate::db::github_slots::release_stmt;
use crate::db::rate_limits::{QuotaRecord, store_stmt};
use crate::db::{Db, Timestamp};
use crate::github::Quota;
use crate::github::ledger::{Ledger, LedgerFuture, Place};

/// How long a free place is waited for between two looks.
const LOOK_AGAIN: Duration = Duration::from_millis(10);

pub struct DbLedger {
    db: Db,
    places: i64,
    /// How long a request may hold its place: past this, its process is taken for dead.
    lease: Duration,
    /// The credentials whose places this process has made sure of.
    added: Mutex<HashSet<String>>,
}

impl DbLedger {
    pub fn new(db: Db, config: &Config) -> Self {
        Self {
            db,
            places: i64::from(config.github_max_in_flight),
            lease: Duration::from_secs(config.github_timeout_seconds + 5),
            added: Mutex::default(),
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
            let holder = uuid::Uuid::new_v4().to_string();
            let until = Timestamp(chrono::Utc::now() + self.lease);
            let claimed = self
                .db
                .claim_github_slot(credential, self.places, &holder, until)
                .await?;
            if let Some(slot) = claimed {
                return Ok(Place {
                    credential: credential.to_owned(),
                    slot,
                    holder,
                });
            }
            tokio::time::sleep(LOOK_AGAIN + LOOK_AGAIN.mul_f64(fastrand::f64())).await;
        }
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
            statements.extend(observed.iter().map(|quota| {
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
