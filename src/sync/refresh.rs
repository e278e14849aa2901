//! Re-reading stored records: one now (`name=refresh`), or those due (`refresh_due`, on the
//! refresh schedule: synced more than `refresh_days` ago, oldest first). Each record's own
//! page is asked conditionally, so that an unchanged record costs no quota (GitHub's 304),
//! and its `synced_at` says it was checked; due developers GraphQL can name are re-read a
//! hundred profiles to a point instead. When GitHub's counts of a record already synced
//! moved, its lists are read again with a full sync; a record GitHub no longer has is
//! marked, as every sync marks it.

use super::{Steps, SyncError, Syncer};
use crate::db::developers::{KnownDeveloper, Unhydrated};
use crate::db::freshness::checked_stmt;
use crate::db::{Key, Timestamp};
use crate::github::{CORE, GRAPHQL, graphql};
use chrono::Utc;

/// Whether GitHub's counts of a developer synced before moved: their followers, following
/// or repositories.
fn counts_moved(before: &KnownDeveloper, after: &KnownDeveloper) -> bool {
    let counts = |known: &KnownDeveloper| {
        (
            known.followers_count,
            known.following_count,
            known.public_repos,
        )
    };
    before.synced && counts(before) != counts(after)
}

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
    /// refresh's share of each window lasts. A record re-checked is no longer due, so a run
    /// cut short (or killed) leaves the rest to the next.
    pub async fn refresh_due(&self, due: &Due) -> Result<(), SyncError> {
        let before = Timestamp(Timestamp::now().0 - chrono::Duration::days(due.days.into()));
        let batch = i64::from(due.batch);
        let developers = self.db.due_developers(before, batch).await?;
        if !self.refresh_developers(developers, due.share).await? {
            return Ok(());
        }
        for full_name in self.db.due_repositories(before, batch).await? {
            let Some((owner, name)) = full_name.split_once('/') else {
                continue;
            };
            if !self.refresh_may_spend(CORE, due.share) {
                return Ok(());
            }
            self.refresh_repository(owner, name, &Steps::new()).await?;
        }
        Ok(())
    }

    /// Re-checks `due`: those GraphQL can name a hundred profiles to a point (where a REST
    /// request each would cost a unit for every changed one), the others one conditional
    /// REST request each. Whether the REST share lasted.
    async fn refresh_developers(
        &self,
        due: Vec<KnownDeveloper>,
        share: f64,
    ) -> Result<bool, SyncError> {
        let graphql = self.github.graphql_enabled();
        let (named, by_rest): (Vec<_>, Vec<_>) = due
            .into_iter()
            .partition(|developer| graphql && developer.node_id.is_some());
        for batch in named.chunks(graphql::BATCH) {
            if !self.refresh_may_spend(GRAPHQL, share) {
                break;
            }
            self.refresh_profiles(batch).await?;
        }
        for developer in by_rest {
            if !self.refresh_may_spend(CORE, share) {
                return Ok(false);
            }
            self.refresh_developer(&developer.login, &Steps::new())
                .await?;
        }
        Ok(true)
    }

    /// Re-reads a batch of developers' profiles over GraphQL (those it cannot give, such as
    /// organizations, over REST), then a full profile sync of each whose counts moved.
    async fn refresh_profiles(&self, batch: &[KnownDeveloper]) -> Result<(), SyncError> {
        let profiles = batch
            .iter()
            .map(|developer| Unhydrated {
                github_id: developer.github_id,
                login: developer.login.clone(),
                node_id: developer.node_id.clone(),
            })
            .collect();
        self.fetch_profiles(profiles, &Steps::new()).await?;
        let ids: Vec<i64> = batch.iter().map(|developer| developer.github_id).collect();
        let after = self.db.known_developers(&ids).await?;
        // A REST 304 leaves a record as it was: it was checked all the same.
        let checked: Vec<_> = after
            .iter()
            .filter(|developer| !developer.gone)
            .map(|developer| checked_stmt("developers", developer.github_id))
            .collect();
        self.db.run_in_transaction(&checked).await?;
        for before in batch {
            let now = after.iter().find(|a| a.github_id == before.github_id);
            if let Some(now) = now.filter(|now| counts_moved(before, now)) {
                tracing::info!(login = %now.login, "its counts moved: its lists are read again");
                self.full_profile_sync(&now.login, &Steps::new()).await?;
            }
        }
        Ok(())
    }

    /// Whether the refresh may spend more of `resource`'s window: affordable, and less than
    /// `share` of the window spent as last seen (all of it before GitHub has been asked, or
    /// once the window has reset).
    fn refresh_may_spend(&self, resource: &str, share: f64) -> bool {
        let quotas = self.github.quotas();
        let quota = quotas.iter().find(|quota| quota.resource == resource);
        self.github.affords(resource)
            && quota.is_none_or(|quota| quota.allows(0, share, Utc::now()))
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
        let moved = before.is_some_and(|before| counts_moved(&before, &after));
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
            return self.full_repository_sync(owner, name, steps).await;
        }
        self.sync_star_history(&after).await
    }
}
