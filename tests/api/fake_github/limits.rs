//! What today's GitHub refuses: stargazer lists, restricted since mid-2026 to a repository's
//! admins and collaborators, in each shape projects meet; and GraphQL's execution limits,
//! past which a query comes back partly answered (`RESOURCE_LIMITS_EXCEEDED`) or, further,
//! ends with a 502 after spending its points. All off until a test switches them on.

use std::collections::HashSet;

use serde_json::{Value, json};

pub const NOT_ACCESSIBLE: &str = "Resource not accessible by personal access token";
pub const TIMED_OUT: &str = "We couldn't respond to your request in time. Sorry about that. \
     Please try resubmitting your request and contact us if the problem persists.";
const LEFT_OUT: &str = "This query exceeded a resource limit and was partially answered.";

/// How a REST stargazer list is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestRefusal {
    /// 403 "Resource not accessible by personal access token".
    Forbidden,
    /// 404 "Not Found", while the repository itself is served.
    NotFound,
    /// 200 and `[]`, while `stargazers_count` counts the stars.
    Empty,
}

/// How GraphQL's `Repository.stargazers` is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphqlRefusal {
    /// `null` and a `FORBIDDEN` error at its path.
    Forbidden,
    /// No nodes or edges, beside the true `totalCount`.
    Empty,
}

/// Which stargazer lists are refused, and how: repository `id` gets the shape at
/// `id % len` of each list of shapes (none when it is empty), unless it is `readable` (the
/// credential's account administers it).
#[derive(Clone, Debug, Default)]
pub struct Restrictions {
    pub rest: Vec<RestRefusal>,
    pub graphql: Vec<GraphqlRefusal>,
    pub readable: HashSet<i64>,
}

impl Restrictions {
    /// Every stargazer list refused, the shapes mixed across repositories.
    pub fn everywhere() -> Restrictions {
        Restrictions {
            rest: vec![
                RestRefusal::Forbidden,
                RestRefusal::NotFound,
                RestRefusal::Empty,
            ],
            graphql: vec![GraphqlRefusal::Forbidden, GraphqlRefusal::Empty],
            readable: HashSet::new(),
        }
    }

    pub(super) fn rest_for(&self, repo: i64) -> Option<RestRefusal> {
        pick(&self.rest, repo, &self.readable)
    }

    pub(super) fn graphql_for(&self, repo: i64) -> Option<GraphqlRefusal> {
        pick(&self.graphql, repo, &self.readable)
    }
}

fn pick<T: Copy>(shapes: &[T], repo: i64, readable: &HashSet<i64>) -> Option<T> {
    if shapes.is_empty() || readable.contains(&repo) {
        return None;
    }
    Some(shapes[repo.unsigned_abs() as usize % shapes.len()])
}

/// How much work a query may do: the objects its answer holds.
#[derive(Clone, Copy, Debug)]
pub struct WorkLimit {
    /// Past this, what comes after is left out, with `RESOURCE_LIMITS_EXCEEDED` errors.
    pub partial_above: i64,
    /// Past this, a 502 after the query's points and `penalty` more are spent.
    pub timeout_above: i64,
    pub penalty: i64,
}

/// Leaves out of `data` what comes after `limit` work: each top-level field of `works` (its
/// response key, and the work of each of its items: the field's, or each node's for
/// `nodes`) in order, nulled with an error at its path once the work so far is over the
/// limit.
pub(super) fn leave_out(
    data: &mut Value,
    works: &[(String, Vec<i64>)],
    limit: i64,
    errors: &mut Vec<Value>,
) {
    let mut spent = 0;
    for (key, items) in works {
        let many = items.len() > 1 || key == "nodes";
        for (index, work) in items.iter().enumerate() {
            spent += work;
            if spent <= limit {
                continue;
            }
            let path = if many {
                data[key.as_str()][index] = Value::Null;
                json!([key, index])
            } else {
                data[key.as_str()] = Value::Null;
                json!([key])
            };
            errors.push(
                json!({"type": "RESOURCE_LIMITS_EXCEEDED", "path": path, "message": LEFT_OUT}),
            );
        }
    }
}
