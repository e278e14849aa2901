//! What GitHub refuses the credential, learnt once: a kind of list GitHub refused is not
//! asked again, for any subject, but for one probe every `github_restriction_probe_seconds`
//! (taken by one process of all that share the database) which notices a lifted restriction.
//! Lists of repositories GitHub says the credential collaborates on (`collaborations`) stay
//! open: GitHub serves them to their admins and collaborators; one it refuses all the same
//! loses that standing.

use super::lists::{Kind, List, Pass};
use super::{Step, Steps, SyncError, Syncer};
use crate::db::Timestamp;
use crate::db::collaborations::no_longer_collaborates_stmt;
use crate::db::restrictions::{lift_stmt, restrict_stmt};

/// Whether a pass over a kind of list may ask GitHub.
pub(super) enum Gate {
    /// GitHub is not known to refuse it.
    Open,
    /// It does; this pass is the probe that asks whether it still does.
    Probe,
    /// It does: the pass asks nothing.
    Closed,
}

impl Syncer {
    pub(super) async fn gate(&self, list: &List) -> sqlx::Result<Gate> {
        let (kind, credential) = (list.kind, self.github.credential_id());
        let Some(restriction) = self.db.restriction(credential, kind.name()).await? else {
            return Ok(Gate::Open);
        };
        if kind == Kind::Stargazers
            && !self
                .db
                .collaborating(credential, &[list.subject])
                .await?
                .is_empty()
        {
            return Ok(Gate::Open);
        }
        // A probe interval too long to count back from now never comes due.
        let due = chrono::Duration::from_std(self.settings.probe_every)
            .ok()
            .and_then(|every| Timestamp::now().0.checked_sub_signed(every))
            .map(Timestamp);
        let Some(due) = due else {
            return Ok(Gate::Closed);
        };
        if restriction.probed_at <= due && self.db.claim_probe(credential, kind.name(), due).await?
        {
            tracing::info!(
                list = kind.name(),
                "probing whether GitHub still restricts these lists"
            );
            return Ok(Gate::Probe);
        }
        Ok(Gate::Closed)
    }

    /// The passes of `waiting` that a restriction just learnt (`refused`) closes: those of
    /// a refused kind but the probe, and but the stargazer lists of repositories the
    /// credential collaborates on.
    pub(super) async fn closed_by(
        &self,
        refused: &[Kind],
        waiting: Vec<Pass>,
    ) -> sqlx::Result<(Vec<Pass>, Vec<Pass>)> {
        let (refused_passes, open): (Vec<Pass>, Vec<Pass>) = waiting
            .into_iter()
            .partition(|pass| refused.contains(&pass.list.kind) && !pass.probe);
        let repositories: Vec<i64> = refused_passes
            .iter()
            .filter(|pass| pass.list.kind == Kind::Stargazers)
            .map(|pass| pass.list.subject)
            .collect();
        let credential = self.github.credential_id();
        let collaborating = self.db.collaborating(credential, &repositories).await?;
        let (kept, closed): (Vec<Pass>, Vec<Pass>) = refused_passes.into_iter().partition(|pass| {
            pass.list.kind == Kind::Stargazers && collaborating.contains(&pass.list.subject)
        });
        Ok((closed, open.into_iter().chain(kept).collect()))
    }

    /// Keeps what a round taught: the lists GitHub refused (their steps done, as
    /// restricted; the first refusal of a kind logged; a collaborator's refused list no
    /// longer open past the restriction) and the kinds a probe found served.
    /// Returns the kinds now known refused.
    pub(super) async fn learn(
        &self,
        restricted: &[(List, String)],
        lifted: &[Kind],
        steps: &Steps,
    ) -> Result<Vec<Kind>, SyncError> {
        let credential = self.github.credential_id();
        let now = Timestamp::now();
        let mut statements = Vec::new();
        let mut refused: Vec<Kind> = Vec::new();
        for (list, answer) in restricted {
            tracing::debug!(list = list.kind.name(), subject = %list.name, %answer, "GitHub refuses a list");
            if refused.contains(&list.kind) {
                continue;
            }
            refused.push(list.kind);
            if self
                .db
                .restriction(credential, list.kind.name())
                .await?
                .is_none()
            {
                tracing::warn!(
                    list = list.kind.name(),
                    %answer,
                    probe_every = ?self.settings.probe_every,
                    "GitHub restricts these lists to this credential: kept as they are, not asked again but for a probe"
                );
            }
            crate::metrics::github_list_restriction(list.kind.name(), true);
            statements.push(restrict_stmt(credential, list.kind.name(), answer, now));
        }
        for kind in lifted.iter().filter(|kind| !refused.contains(kind)) {
            tracing::info!(
                list = kind.name(),
                "GitHub serves these lists again: the restriction is lifted"
            );
            crate::metrics::github_list_restriction(kind.name(), false);
            statements.push(lift_stmt(credential, kind.name()));
        }
        // A collaborator's list refused all the same: no longer open past the restriction
        // (deleting no row for the others).
        let standing: Vec<i64> = restricted
            .iter()
            .filter(|(list, _)| list.kind == Kind::Stargazers)
            .map(|(list, _)| list.subject)
            .collect();
        if !standing.is_empty() {
            statements.push(no_longer_collaborates_stmt(credential, &standing));
        }
        if !statements.is_empty() {
            self.db.run_in_transaction(&statements).await?;
        }
        let done = restricted
            .iter()
            .map(|(list, _)| Step::Restricted(list.kind, list.subject));
        steps.complete_all(done.collect()).await?;
        Ok(refused)
    }
}
