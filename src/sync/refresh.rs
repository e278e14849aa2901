//! Re-reading stored records: one now (`name=refresh`), or those due (`refresh_due`, on the
//! refresh schedule: synced more than `refresh_days` ago, oldest first). Each record's own
//! page is asked conditionally, so that an unchanged record costs no quota (GitHub's 304),
//! and its `synced_at` says it was checked. When GitHub's counts of a record already synced
//! moved, its lists are read again with a full sync; a record GitHub no longer has is
//! marked, as every sync marks it.

use super::{Steps, SyncError, Syncer};
use crate::db::developers::KnownDeveloper;
use crate::db::freshness::checked_stmt;
use crate::db::{Key, Timestamp};
use crate::github::CORE;
use chrono::Utc;

/// What one run of the refresh re-checks.
#[derive(Clone, Copy, Debug)]
pub struct Due {
    /// Records synced longer ago are due.
    pub days: u32,
    /// Records of each kind one run re-checks at most.
    pub batch: u32,
    /// The part of each REST window the refresh may spend (the rest is discovery's).
    pub share: f64,
}

impl Syncer {
    /// Re-checks the records due, developers then repositories, oldest first, while the
    /// refresh's share of the REST window lasts. A record re-checked is no longer due, so a
    /// run cut short (or killed) leaves the rest to the next.
    pub async fn refresh_due(&self, due: &Due) -> Result<(), SyncError> {
        let before = Timestamp(Timestamp::now().0 - chrono::Duration::days(due.days.into()));
        let batch = i64::from(due.batch);
        for login in self.db.due_developers(before, batch).await? {
            if !self.refresh_may_spend(due.share) {
                return Ok(());
            }
            self.refresh_developer(&login, &Steps::new()).await?;
        }
        for full_name in self.db.due_repositories(before, batch).await? {
            let Some((owner, name)) = full_name.split_once('/') else {
                continue;
            };
            if !self.refresh_may_spend(due.share) {
                return Ok(());
            }
            self.refresh_repository(owner, name, &Steps::new()).await?;
        }
        Ok(())
    }

    /// Whether the refresh may spend more of the REST window: affordable, and less than
    /// `share` of the window spent as last seen (all of it before GitHub has been asked, or
    /// once the window has reset).
    fn refresh_may_spend(&self, share: f64) -> bool {
        let quotas = self.github.quotas();
        let core = quotas.iter().find(|quota| quota.resource == CORE);
        self.github.affords(CORE) && core.is_none_or(|quota| quota.allows(0, share, Utc::now()))
    }

    /// Re-reads the developer `login`; a full profile sync when their followers, following
    /// or repositories counts moved.
    pub async fn refresh_developer(&self, login: &str, steps: &Steps) -> Result<(), SyncError> {
        let before = self.db.known_developer(Key::Name(login)).await?;
        let Some(after) = self.sync_user(login).await? else {
            return Ok(());
        };
        self.db
            .run_in_transaction(&[checked_stmt("developers", after.github_id)])
            .await?;
        let counts = |known: &KnownDeveloper| {
            (
                known.followers_count,
                known.following_count,
                known.public_repos,
            )
        };
        let moved = before.is_some_and(|before| before.synced && counts(&before) != counts(&after));
        if moved {
            tracing::info!(login = %after.login, "its counts moved: its lists are read again");
            self.full_profile_sync(&after.login, steps).await?;
        }
        Ok(())
    }

    /// Re-reads the repository `owner/name`; a full repository sync when its stargazers
    /// count moved.
    pub async fn refresh_repository(
        &self,
        owner: &str,
        name: &str,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        let before = self.db.known_repository(&format!("{owner}/{name}")).await?;
        let Some((after, _)) = self.sync_repository(owner, name).await? else {
            return Ok(());
        };
        self.db
            .run_in_transaction(&[checked_stmt("repositories", after.github_id)])
            .await?;
        let moved = before.is_some_and(|before| {
            before.synced && before.stargazers_count != after.stargazers_count
        });
        if moved {
            tracing::info!(repository = %after.full_name, "its stars moved: its stargazers are read again");
            self.full_repository_sync(owner, name, steps).await?;
        }
        Ok(())
    }
}
