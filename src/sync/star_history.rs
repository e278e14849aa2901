//! GitHub's star history of a repository (`GET /repos/{owner}/{repo}/stargazers/history`,
//! since 2026-09-04): its stars by week, newest first, 30 weeks a page, one core request a
//! page, with no stargazer named, so it answers while the stargazer lists are restricted.
//! Read for the repositories with at least `star_history_stars` stars: whole the first time,
//! then only its latest page, conditionally (a 304 is free), with each refresh or full sync
//! of the repository (not when a repository met in lists is completed: a first read costs a
//! request for every 30 weeks since its first star).

use serde::Deserialize;
use serde_json::Value;

use super::convert::segment;
use super::{SyncError, Syncer, unexpected_shape};
use crate::db::Timestamp;
use crate::db::http_cache::{Cached, remember_stmt};
use crate::db::repositories::KnownRepository;
use crate::db::star_history::{StarWeek, star_weeks_stmts};
use crate::github::{Fetched, GitHubError};

/// A week as GitHub gives it: its Sunday (Unix seconds), and the stars of the week that
/// still stand (`days` holds them day by day).
#[derive(Deserialize)]
struct Week {
    week: i64,
    total: i64,
}

impl Syncer {
    /// Reads the star history of `repository` when it has stars enough.
    pub(super) async fn sync_star_history(
        &self,
        repository: &KnownRepository,
    ) -> Result<(), SyncError> {
        let stars = repository.stargazers_count.unwrap_or(0);
        if stars == 0 || stars < self.settings.star_history_stars {
            return Ok(());
        }
        let Some((owner, name)) = repository.full_name.split_once('/') else {
            return Ok(());
        };
        let latest = self.github.url(&format!(
            "/repos/{}/{}/stargazers/history?per_page=30",
            segment(owner),
            segment(name)
        ));
        let whole = !repository.star_history_read;
        // The latest page is asked conditionally once the older weeks are stored.
        let cached = match whole {
            true => None,
            false => self.db.cached(&latest).await?,
        };
        let etag = cached.as_ref().and_then(|cached| cached.etag.as_deref());
        let (mut weeks, mut next, remembered) = match self.github.get(&latest, etag, None).await {
            Ok(Fetched::Fresh {
                body, etag, next, ..
            }) => (parsed(body)?, next, etag),
            Ok(Fetched::NotModified) => return Ok(()),
            // The repository's own page tells what became of it.
            Err(GitHubError::Gone { .. } | GitHubError::Blocked) => return Ok(()),
            Err(err) => return Err(err.into()),
        };
        // A latest page that does not reach back to the weeks stored (the history was last
        // read more than a page of weeks ago) is followed until it does: the weeks are kept
        // without a gap.
        let stored = match whole {
            true => None,
            false => self.db.latest_star_week(repository.github_id).await?,
        };
        let reaches_back = |weeks: &[StarWeek]| {
            stored.is_none_or(|latest| weeks.iter().any(|week| week.week <= latest))
        };
        while let Some(page) = next.take().filter(|_| whole || !reaches_back(&weeks)) {
            match self.github.get(&page, None, None).await? {
                Fetched::Fresh {
                    body, next: after, ..
                } => {
                    weeks.extend(parsed(body)?);
                    next = after;
                }
                Fetched::NotModified => break,
            }
        }
        let now = Timestamp::now();
        let mut statements = star_weeks_stmts(repository.github_id, &weeks, whole, now);
        let remembered = Cached {
            etag: remembered,
            ..Cached::default()
        };
        statements.push(remember_stmt(&latest, &remembered, now));
        Ok(self.db.run_in_transaction(&statements).await?)
    }
}

/// A page of weeks.
fn parsed(body: Value) -> Result<Vec<StarWeek>, SyncError> {
    let weeks = Vec::<Week>::deserialize(body).map_err(unexpected_shape)?;
    Ok(weeks
        .into_iter()
        .filter_map(|week| {
            let start = chrono::DateTime::from_timestamp(week.week, 0)?;
            Some(StarWeek {
                week: Timestamp(start),
                stars: week.total,
            })
        })
        .collect())
}
