//! Full profile syncs of several developers at once: their profiles, then every list of
//! theirs — repositories (then each one's stargazers), followers, following, starred — read
//! together, a page of each list per round, and last the profiles of everyone met only in
//! those lists, and last the repositories met only in GraphQL lists are completed
//! (`complete`). One developer is the same sync with one subject.

use super::lists::{Kind, List, Pass};
use super::{Step, Steps, SyncError, Syncer};
use crate::db::developers::{KnownDeveloper, Unhydrated};
use crate::db::edges::{Edge, sweep_stmt};
use crate::db::repositories::KnownRepository;
use crate::db::{Key, Timestamp};

/// Whether a sync fetches the profiles of its subjects again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profiles {
    /// Always: a full profile sync someone asked for.
    Refresh,
    /// Only those never fetched: discovery's crawl, whose subjects it picked because their
    /// lists are unread, and whose profiles it mostly fetched moments ago.
    Missing,
}

impl Syncer {
    /// Full syncs of `logins`: profiles as `profiles` says, then every list; steps already in
    /// `steps` are skipped.
    pub async fn crawl(
        &self,
        logins: &[String],
        profiles: Profiles,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        // A count of zero clears what no pass showed since it was asked for.
        let asked = Timestamp::now();
        let subjects = self.subject_profiles(logins, profiles, steps).await?;
        let mut passes = Vec::new();
        for (subject, counted) in &subjects {
            let lists = [
                (Kind::Repositories, subject.public_repos),
                (Kind::Followers, subject.followers_count),
                (Kind::Following, subject.following_count),
                (Kind::Starred, None),
            ];
            for (kind, count) in lists {
                let list = List {
                    kind,
                    subject: subject.github_id,
                    node_id: subject.node_id.clone(),
                    name: subject.login.clone(),
                    count: None,
                };
                if steps.is_done(&list.step()) {
                    if kind == Kind::Repositories {
                        passes.extend(self.stargazer_passes(subject.github_id, steps).await?);
                    }
                    continue;
                }
                // A count of zero from a profile this sync fetched is a complete answer: no
                // request needed. An older count may be stale: the list is read.
                if *counted && count == Some(0) {
                    if let Some(edge) = kind.edge() {
                        let sweep = sweep_stmt(edge, subject.github_id, asked);
                        self.db.run_in_transaction(&[sweep]).await?;
                    }
                    steps.complete(list.step()).await?;
                    continue;
                }
                passes.extend(self.begin(list, steps).await?);
            }
        }
        self.run_passes(passes, steps).await?;
        let ids: Vec<i64> = subjects
            .iter()
            .map(|(subject, _)| subject.github_id)
            .collect();
        self.hydrate(&ids, &[], steps).await?;
        if self.github.graphql_enabled() {
            self.complete_repositories(&ids).await?;
        }
        Ok(())
    }

    /// The developers `logins` name, with their profiles fetched as `profiles` says: over
    /// GraphQL for those it can name and REST has no validator for, else over REST (a 304 is
    /// free). Those GitHub no longer has are left out, and marked. Each comes with whether its
    /// counts were fetched by this sync (else they may be stale).
    async fn subject_profiles(
        &self,
        logins: &[String],
        profiles: Profiles,
        steps: &Steps,
    ) -> Result<Vec<(KnownDeveloper, bool)>, SyncError> {
        let mut subjects = Vec::new();
        let mut by_graphql = Vec::new();
        for login in logins {
            let step = Step::profile(login);
            let known = self.db.known_developer(Key::Name(login)).await?;
            if steps.is_done(&step) {
                subjects.extend(known.map(|known| (known, true)));
                continue;
            }
            match known {
                Some(known) if profiles == Profiles::Missing && known.synced => {
                    subjects.push((known, false));
                }
                Some(known)
                    if self
                        .prefers_graphql(known.node_id.is_some(), &self.profile_url(login))
                        .await? =>
                {
                    by_graphql.push(Unhydrated {
                        github_id: known.github_id,
                        login: known.login,
                        node_id: known.node_id,
                    });
                }
                _ => {
                    // The developer as GitHub now names them: a renamed one is followed.
                    let fetched = self.sync_user(login).await?;
                    subjects.extend(fetched.map(|known| (known, true)));
                    steps.complete(step).await?;
                }
            }
        }
        self.fetch_profiles(by_graphql.clone(), steps).await?;
        for developer in by_graphql {
            let known = self
                .db
                .known_developer(Key::GitHubId(developer.github_id))
                .await?;
            subjects.extend(known.map(|known| (known, true)));
            steps.complete(Step::profile(&developer.login)).await?;
        }
        subjects.retain(|(subject, _)| subject.synced && !subject.gone);
        Ok(subjects)
    }

    /// Passes over the stargazers of `owner`'s repositories.
    pub(super) async fn stargazer_passes(
        &self,
        owner: i64,
        steps: &Steps,
    ) -> Result<Vec<Pass>, SyncError> {
        let mut passes = Vec::new();
        for repository in self.db.owned_repositories(owner).await? {
            passes.extend(self.stargazer_pass(&repository, steps).await?);
        }
        Ok(passes)
    }

    /// The pass over `repository`'s stargazers, unless it is done, the repository is gone or
    /// blocked, GitHub refuses stargazer lists to the credential (`restrictions`), or GitHub
    /// counts no stars (then the stored stargazers are cleared at once).
    pub(super) async fn stargazer_pass(
        &self,
        repository: &KnownRepository,
        steps: &Steps,
    ) -> Result<Option<Pass>, SyncError> {
        let list = List {
            kind: Kind::Stargazers,
            subject: repository.github_id,
            node_id: repository.node_id.clone(),
            name: repository.full_name.clone(),
            count: repository.stargazers_count,
        };
        if steps.is_done(&list.step())
            || repository.blocked_at.is_some()
            || repository.gone_at.is_some()
        {
            return Ok(None);
        }
        if repository.stargazers_count == Some(0) {
            let sweep = sweep_stmt(Edge::Stargazers, repository.github_id, Timestamp::now());
            self.db.run_in_transaction(&[sweep]).await?;
            steps.complete(list.step()).await?;
            return Ok(None);
        }
        self.begin(list, steps).await
    }
}
