//! Re-reading one stored record now (`name=refresh`): its own page, asked conditionally, so
//! that an unchanged record costs no quota (GitHub's 304), and its `synced_at` says it was
//! checked. When GitHub's counts of a record already synced moved, its lists are read again
//! with a full sync; a record GitHub no longer has is marked, as every sync marks it.

use super::{Steps, SyncError, Syncer};
use crate::db::Key;
use crate::db::developers::KnownDeveloper;
use crate::db::freshness::checked_stmt;

impl Syncer {
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
