//! Repositories met in GraphQL lists completed to the fields GitHub's REST object has:
//! their counts over GraphQL (a hundred to a query, one point), then `has_downloads` and
//! `has_pages`, which GraphQL lacks, by reading each one's own page over REST while REST's
//! quota is idle (a GraphQL crawl leaves it so). What the budget does not reach stays
//! incomplete, `synced_at` null, for a later sync.

use std::collections::VecDeque;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{SyncError, Syncer};
use crate::db::incomplete::{Incomplete, tallies_stmt};
use crate::github::graphql::{self, ByIds, Tallies};
use crate::github::{CORE, GRAPHQL};

impl Syncer {
    /// Completes the repositories `developers` (GitHub ids) own or starred.
    pub(super) async fn complete_repositories(&self, developers: &[i64]) -> Result<(), SyncError> {
        let incomplete = self.db.incomplete_repositories(developers).await?;
        let mut uncounted: VecDeque<Incomplete> = incomplete
            .iter()
            .filter(|repository| !repository.counted && repository.node_id.is_some())
            .cloned()
            .collect();
        while !uncounted.is_empty() && self.github.affords(GRAPHQL) {
            let size = self.github.sizing().now().ids.min(uncounted.len());
            let batch: Vec<Incomplete> = uncounted.drain(..size).collect();
            match self.tally(&batch).await? {
                Some(again) => again
                    .into_iter()
                    .rev()
                    .for_each(|r| uncounted.push_front(r)),
                None => break,
            }
        }
        for repository in incomplete {
            if !self.github.idle(CORE) {
                break;
            }
            if let Some((owner, name)) = repository.full_name.split_once('/') {
                self.sync_repository(owner, name).await?;
            }
        }
        Ok(())
    }

    /// One query of counts, stored; the repositories GitHub left out, to ask again (`None`
    /// when GraphQL can do no more now).
    async fn tally(&self, batch: &[Incomplete]) -> Result<Option<Vec<Incomplete>>, SyncError> {
        let ids: Vec<&str> = batch.iter().filter_map(|r| r.node_id.as_deref()).collect();
        let (answer, smaller) = match self.github.by_ids(&graphql::tallies_query(), &ids).await? {
            ByIds::Answered { answer, smaller } => (answer, smaller),
            ByIds::Again => return Ok(Some(batch.to_vec())),
            ByIds::OutOfQuota => return Ok(None),
        };
        let nodes = answer.data.get("nodes").and_then(Value::as_array);
        let (mut statements, mut again) = (Vec::new(), Vec::new());
        for (index, repository) in batch.iter().enumerate() {
            let node = nodes.and_then(|nodes| nodes.get(index));
            let tallies = node.and_then(|node| Tallies::deserialize(node).ok());
            match tallies {
                Some(t) => statements.push(tallies_stmt(
                    t.database_id,
                    t.watchers.total_count,
                    t.issues.total_count + t.pull_requests.total_count,
                )),
                None if smaller && answer.left_out(&[json!("nodes"), json!(index)]) => {
                    again.push(repository.clone());
                }
                // Gone, or not a repository: its own page, read next, says which.
                None => {}
            }
        }
        self.db.run_in_transaction(&statements).await?;
        Ok(Some(again))
    }
}
