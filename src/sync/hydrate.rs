//! Profiles of developers known only from lists: up to a hundred to a GraphQL query (one
//! point; fewer while GitHub's execution limits cut queries short, and those it left out are
//! asked again over GraphQL, never taken for gone) when it can name them, else one REST request each — without GraphQL, for organizations
//! (GraphQL has no follower count for them), and once GraphQL's quota is spent while REST's
//! is not.

use std::collections::VecDeque;

use serde_json::{Value, json};

use super::{Steps, SyncError, Syncer, convert};
use crate::db::developers::{Unhydrated, mark_gone_stmt, upsert_profiles_stmt};
use crate::db::{Key, Timestamp};
use crate::github::graphql::{self, ByIds};
use crate::github::{GRAPHQL, GitHubError};
use crate::metrics::Stored;

/// How a GraphQL batch of profiles went.
enum Batch {
    /// Stored, but for those REST is to fetch, and those GitHub left out (asked again).
    Stored {
        by_rest: Vec<Unhydrated>,
        again: Vec<Unhydrated>,
    },
    /// GraphQL's quota is spent: nothing was asked.
    OutOfQuota,
}

impl Syncer {
    /// Profiles of the developers linked to `developers` or `repositories` (GitHub ids) that
    /// are known only from lists. A stored (or gone) profile leaves that set, so a resumed
    /// hydration goes on with those still missing, with no step to record.
    pub(super) async fn hydrate(
        &self,
        developers: &[i64],
        repositories: &[i64],
        steps: &Steps,
    ) -> Result<(), SyncError> {
        let pending = self
            .db
            .developers_to_hydrate(developers, repositories)
            .await?;
        self.fetch_profiles(pending, steps).await
    }

    /// Fetches and stores these developers' profiles, marking those GitHub no longer has.
    pub(super) async fn fetch_profiles(
        &self,
        developers: Vec<Unhydrated>,
        steps: &Steps,
    ) -> Result<(), SyncError> {
        let graphql = self.github.graphql_enabled();
        let (named, mut by_rest): (Vec<_>, Vec<_>) = developers
            .into_iter()
            .partition(|developer| graphql && developer.node_id.is_some());
        let mut queue = VecDeque::from(named);
        while !queue.is_empty() {
            let size = self.github.sizing().now().ids.min(queue.len());
            let batch: Vec<Unhydrated> = queue.drain(..size).collect();
            match self.profiles_batch(&batch).await? {
                Batch::Stored {
                    by_rest: left,
                    again,
                } => {
                    steps.page_stored(batch.len() - left.len() - again.len());
                    by_rest.extend(left);
                    again.into_iter().rev().for_each(|d| queue.push_front(d));
                }
                Batch::OutOfQuota => {
                    tracing::info!("GraphQL's quota is spent: profiles go on over REST");
                    by_rest.extend(batch);
                    by_rest.extend(queue.drain(..));
                }
            }
        }
        for developer in by_rest {
            self.sync_user(&developer.login).await?;
            steps.page_stored(1);
        }
        Ok(())
    }

    /// One GraphQL query for a batch of profiles, stored in one transaction.
    async fn profiles_batch(&self, batch: &[Unhydrated]) -> Result<Batch, SyncError> {
        if !self.github.affords(GRAPHQL) {
            return Ok(Batch::OutOfQuota);
        }
        let ids: Vec<&str> = batch
            .iter()
            .filter_map(|developer| developer.node_id.as_deref())
            .collect();
        let (answer, smaller) = match self.github.by_ids(&graphql::profiles_query(), &ids).await? {
            ByIds::Answered { answer, smaller } => (answer, smaller),
            ByIds::OutOfQuota => return Ok(Batch::OutOfQuota),
            ByIds::Again => {
                return Ok(Batch::Stored {
                    by_rest: Vec::new(),
                    again: batch.to_vec(),
                });
            }
        };
        let nodes = answer.data.get("nodes").and_then(Value::as_array);
        let (now, mut profiles, mut statements, mut by_rest, mut again) = (
            Timestamp::now(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for (index, developer) in batch.iter().enumerate() {
            let node = nodes
                .and_then(|nodes| nodes.get(index))
                .unwrap_or(&Value::Null);
            let is_user = node.get("__typename").and_then(Value::as_str) == Some("User");
            let path = [json!("nodes"), json!(index)];
            if node.is_null() && answer.left_out(&path) {
                again.push(developer.clone());
            } else if node.is_null() && answer.not_found(&path) {
                statements.push(mark_gone_stmt(Key::GitHubId(developer.github_id), now));
            } else if let Some(profile) = is_user
                .then(|| convert::graphql_profile(node.clone()).ok())
                .flatten()
            {
                profiles.push(profile);
            } else {
                by_rest.push(developer.clone());
            }
        }
        if !again.is_empty() && !smaller {
            return Err(SyncError::GitHub(GitHubError::failed_because(
                "GitHub's resource limits leave out even a query of one profile",
            )));
        }
        statements.extend(upsert_profiles_stmt(&profiles, now));
        self.db.run_in_transaction(&statements).await?;
        Stored {
            developers: profiles.len(),
            ..Stored::default()
        }
        .count();
        Ok(Batch::Stored { by_rest, again })
    }
}
