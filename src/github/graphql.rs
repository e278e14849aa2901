//! GitHub's GraphQL API: the query documents the service sends, the client's POST, and the
//! answers' shapes. Errors come in a 200 body: `RATE_LIMITED` postpones, "Something went
//! wrong" is retried, `NOT_FOUND` leaves `null` in its slot for the caller to read.
//!
//! Every document is valid against GitHub's schema (a test checks each one against
//! `assets/github/schema.graphql`). GitHub's execution limits — a query ended after 10
//! seconds (502), parts of one left out (`RESOURCE_LIMITS_EXCEEDED`) — shrink the next
//! queries (`sizing`); the caller asks again what was left out. Costs, by GitHub's formula (each connection needs one
//! request per parent its enclosing connections may yield; the sum ÷ 100, rounded, at
//! least 1): a hydration of 100 profiles is 4 requests, 1 point; a page of lists for up to
//! 100 subjects (one connection each) is 1 point.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Attempt, GRAPHQL, GitHub, GitHubError, Quota, Received};

/// Largest number of ids `nodes(ids:)` takes, and of lists read in one query.
pub const BATCH: usize = 100;

/// What a user's profile is made of, as `GET /users/{login}` has it.
const PROFILE: &str = "fragment Profile on User { id databaseId login name company location \
     email bio websiteUrl isHireable twitterUsername avatarUrl url isSiteAdmin createdAt \
     updatedAt followers { totalCount } following { totalCount } \
     repositories(ownerAffiliations: [OWNER], privacy: PUBLIC) { totalCount totalDiskUsage } \
     gists(privacy: PUBLIC) { totalCount } }";

/// A user as lists name them.
const PERSON: &str = "fragment Person on User { id databaseId login }";

/// A repository as lists show it: the fields GraphQL has exactly as REST does.
const LISTED_REPOSITORY: &str = "fragment ListedRepository on Repository { id databaseId \
     name nameWithOwner description primaryLanguage { name } createdAt updatedAt \
     hasIssuesEnabled hasProjectsEnabled hasWikiEnabled isPrivate isArchived isDisabled \
     stargazerCount diskUsage homepageUrl viewerPermission owner { __typename id login ... on User { databaseId } \
     ... on Organization { databaseId } } }";

const RATE_LIMIT: &str = "rateLimit { cost limit remaining resetAt }";

/// Profiles of up to `BATCH` nodes by id (`$ids`): users in full, organizations by name.
pub fn profiles_query() -> String {
    format!(
        "query Profiles($ids: [ID!]!) {{ {RATE_LIMIT} nodes(ids: $ids) {{ __typename \
         ... on User {{ ...Profile }} ... on Organization {{ id databaseId login }} }} }} {PROFILE}"
    )
}

/// What REST's repository object counts and a list's `ListedRepository` leaves out (a
/// connection in each of a hundred lists of a hundred would cost a point per list), for up to
/// `BATCH` repositories by node id (`$ids`): three connections of one parent, one point.
pub fn tallies_query() -> String {
    format!(
        "query Tallies($ids: [ID!]!) {{ {RATE_LIMIT} nodes(ids: $ids) {{ __typename \
         ... on Repository {{ databaseId watchers {{ totalCount }} \
         issues(states: [OPEN]) {{ totalCount }} pullRequests(states: [OPEN]) {{ totalCount }} \
         }} }} }}"
    )
}

/// A repository's counts as `tallies_query` selects them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tallies {
    pub database_id: i64,
    pub watchers: Count,
    pub issues: Count,
    pub pull_requests: Count,
}

/// One of the lists the sync reads, as a GraphQL connection of its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Followers,
    Following,
    Starred,
    Repositories,
    Stargazers,
}

impl Connection {
    /// The selection, for alias `index`, of a page of this list: `list` under the subject's
    /// node `$s{index}`, after cursor `$a{index}`.
    fn selection(self, index: usize, items: usize) -> String {
        let page = format!("first: {items}");
        let (on, field) = match self {
            Self::Followers => (
                "User",
                format!("followers({page}, after: $a{index}) {{ nodes {{ ...Person }}"),
            ),
            Self::Following => (
                "User",
                format!("following({page}, after: $a{index}) {{ nodes {{ ...Person }}"),
            ),
            Self::Starred => (
                "User",
                format!(
                    "starredRepositories({page}, after: $a{index}) \
                     {{ edges {{ starredAt node {{ ...ListedRepository }} }}"
                ),
            ),
            Self::Repositories => (
                "User",
                format!(
                    "repositories({page}, after: $a{index}, ownerAffiliations: [OWNER], \
                     privacy: PUBLIC) {{ nodes {{ ...ListedRepository }}"
                ),
            ),
            Self::Stargazers => (
                "Repository",
                format!(
                    "stargazers({page}, after: $a{index}, orderBy: \
                     {{field: STARRED_AT, direction: DESC}}) \
                     {{ edges {{ starredAt node {{ ...Person }} }}"
                ),
            ),
        };
        format!(
            "l{index}: node(id: $s{index}) {{ __typename ... on {on} {{ list: {field} \
             totalCount pageInfo {{ hasNextPage endCursor }} }} }} }}"
        )
    }

    fn fragments(self) -> &'static str {
        match self {
            Self::Followers | Self::Following | Self::Stargazers => PERSON,
            Self::Starred | Self::Repositories => LISTED_REPOSITORY,
        }
    }
}

/// A page of one list to read: of which subject (its node id), after which cursor.
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub connection: Connection,
    pub subject: String,
    pub after: Option<String>,
}

/// One query reading a page of `items` items of each list asked (at most `BATCH`), and its
/// variables. The answer has each page at `l{i}.list`, in the order asked.
pub fn pages_query(pages: &[PageRequest], items: usize) -> (String, Value) {
    let mut declarations = Vec::new();
    let mut selections = Vec::new();
    let mut variables = serde_json::Map::new();
    let mut fragments: Vec<&str> = Vec::new();
    for (index, page) in pages.iter().enumerate() {
        declarations.push(format!("$s{index}: ID!, $a{index}: String"));
        selections.push(page.connection.selection(index, items));
        variables.insert(format!("s{index}"), json!(page.subject));
        variables.insert(format!("a{index}"), json!(page.after));
        let fragment = page.connection.fragments();
        if !fragments.contains(&fragment) {
            fragments.push(fragment);
        }
    }
    let query = format!(
        "query Pages({}) {{ {RATE_LIMIT} {} }} {}",
        declarations.join(", "),
        selections.join(" "),
        fragments.join(" ")
    );
    (query, Value::Object(variables))
}

/// An answer: its data (with `null` where a node was not found) and its errors.
#[derive(Debug, Deserialize)]
pub struct Answer {
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub errors: Vec<QueryError>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct QueryError {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub message: String,
    #[serde(default)]
    pub path: Vec<Value>,
}

impl Answer {
    /// Whether GitHub said that what stands at `path` does not exist.
    pub fn not_found(&self, path: &[Value]) -> bool {
        self.errors
            .iter()
            .any(|error| error.kind.as_deref() == Some(NOT_FOUND) && error.path.starts_with(path))
    }

    /// What GitHub said refusing the credential what stands at `path`, or within it.
    pub fn forbidden(&self, path: &[Value]) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.kind.as_deref() == Some(FORBIDDEN) && error.path.starts_with(path))
            .map(|error| error.message.as_str())
    }

    /// Whether GitHub left out what stands at `path` for the query's weight: an error
    /// naming it (or anything within it), or one naming no path at all.
    pub fn left_out(&self, path: &[Value]) -> bool {
        self.errors.iter().any(|error| {
            error.kind.as_deref() == Some(RESOURCE_LIMITS)
                && (error.path.is_empty() || error.path.starts_with(path))
        })
    }

    /// Whether GitHub left anything out for the query's weight.
    pub fn cut_short(&self) -> bool {
        self.errors
            .iter()
            .any(|error| error.kind.as_deref() == Some(RESOURCE_LIMITS))
    }
}

/// A page of a connection.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// How many the whole list has, by GitHub's count.
    pub total_count: Option<i64>,
    #[serde(default)]
    pub nodes: Vec<Value>,
    #[serde(default)]
    pub edges: Vec<Edge>,
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    pub starred_at: Option<DateTime<Utc>>,
    pub node: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// A user's profile as `Profile` selects it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub database_id: i64,
    pub login: String,
    pub name: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub followers: Count,
    pub following: Count,
    pub repositories: Owned,
    pub gists: Count,
}

/// A user's own public repositories: how many, and their kilobytes together.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owned {
    pub total_count: i64,
    pub total_disk_usage: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub total_count: i64,
}

/// A user or an organization as lists name them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub id: String,
    pub database_id: i64,
    pub login: String,
}

/// A repository as `ListedRepository` selects it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedRepository {
    pub id: String,
    pub database_id: i64,
    pub name: String,
    pub name_with_owner: String,
    pub description: Option<String>,
    pub primary_language: Option<Language>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub has_issues_enabled: bool,
    pub has_projects_enabled: bool,
    pub has_wiki_enabled: bool,
    pub is_private: bool,
    pub is_archived: bool,
    pub is_disabled: bool,
    pub stargazer_count: i64,
    /// Kilobytes; null where GitHub does not say.
    pub disk_usage: Option<i64>,
    pub homepage_url: Option<String>,
    /// `ADMIN`, `MAINTAIN`, `WRITE`, `TRIAGE` or `READ`: what the credential may do there.
    pub viewer_permission: Option<String>,
    pub owner: Named,
}

#[derive(Debug, Deserialize)]
pub struct Language {
    pub name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateLimit {
    cost: i64,
    limit: i64,
    remaining: i64,
    reset_at: DateTime<Utc>,
}

const WENT_WRONG: &str = "Something went wrong while executing your query";
const NOT_FOUND: &str = "NOT_FOUND";
const FORBIDDEN: &str = "FORBIDDEN";
const RESOURCE_LIMITS: &str = "RESOURCE_LIMITS_EXCEEDED";

impl GitHub {
    /// Runs `query` with `variables`, within the GraphQL quota and through faults.
    pub async fn graphql(&self, query: &str, variables: Value) -> Result<Answer, GitHubError> {
        let body = json!({"query": query, "variables": variables});
        let url = &self.graphql_url;
        let sent = || {
            self.http
                .post(url)
                .timeout(self.graphql_timeout)
                .json(&body)
        };
        let answer = match self.call(GRAPHQL, url, sent, interpret_graphql).await {
            Err(GitHubError::QueryLimit { answer, timed_out }) => {
                let why = if timed_out { "timeout" } else { "resources" };
                let cost = self.last_cost.load(std::sync::atomic::Ordering::Relaxed);
                crate::metrics::github_query_limited(why, cost);
                tracing::warn!(%answer, why, "GitHub cut a GraphQL query short: asking less");
                return Err(GitHubError::QueryLimit { answer, timed_out });
            }
            other => other?,
        };
        if answer.cut_short() {
            crate::metrics::github_query_limited("resources", 0);
        }
        if let Some(rate) = answer.data.get("rateLimit")
            && let Ok(rate) = RateLimit::deserialize(rate)
        {
            self.last_cost
                .store(rate.cost, std::sync::atomic::Ordering::Relaxed);
            self.quotas.observe(Quota {
                resource: GRAPHQL.to_owned(),
                limit: rate.limit,
                remaining: rate.remaining,
                reset: rate.reset_at.timestamp(),
            });
        }
        Ok(answer)
    }
}

/// How a query of nodes by id (`$ids`) went.
pub enum ByIds {
    /// Its answer; `smaller`: whether a smaller query is left to ask again what GitHub
    /// left out of it (when it was as small as it gets, nothing is to be asked again).
    Answered { answer: Answer, smaller: bool },
    /// GitHub cut it short whole: the same ids are to be asked again, fewer at a time.
    Again,
    /// GraphQL's quota is spent: nothing was asked.
    OutOfQuota,
}

impl GitHub {
    /// Runs `query` for `ids`, sizing the next such queries by how GitHub's execution limits
    /// took this one.
    pub async fn by_ids(&self, query: &str, ids: &[&str]) -> Result<ByIds, GitHubError> {
        let sizing = &self.sizing;
        match self.graphql(query, json!({ "ids": ids })).await {
            Ok(answer) => {
                let smaller = sizing.took_ids(answer.cut_short());
                Ok(ByIds::Answered { answer, smaller })
            }
            Err(GitHubError::Postpone { .. }) => Ok(ByIds::OutOfQuota),
            Err(GitHubError::QueryLimit { timed_out, .. }) if sizing.shrink_profiles(timed_out) => {
                Ok(ByIds::Again)
            }
            Err(err) => Err(err),
        }
    }
}

/// A GraphQL answer: errors that concern the whole query are handled here, the rest (a node
/// not found) go to the caller with the data.
fn interpret_graphql(received: Received, quota: Option<&Quota>) -> Attempt<Answer> {
    if !received.status.is_success() {
        let message = super::error_message(&received.body);
        if let Some(restricted) = super::restricted(received.status, &message) {
            return Attempt::Done(Err(restricted));
        }
        return Attempt::Done(Err(GitHubError::failed_because(format!(
            "GitHub answered {}: {message}",
            received.status
        ))));
    }
    let answer: Answer = match serde_json::from_slice(&received.body) {
        Ok(answer) => answer,
        Err(err) => return Attempt::Transient("invalid JSON".into(), Some(Arc::new(err))),
    };
    if answer
        .errors
        .iter()
        .any(|error| error.kind.as_deref() == Some("RATE_LIMITED"))
    {
        let until = quota.map_or_else(|| Utc::now() + chrono::Duration::hours(1), Quota::reset_at);
        return Attempt::Done(Err(GitHubError::Postpone {
            resource: GRAPHQL.to_owned(),
            until,
        }));
    }
    if answer
        .errors
        .iter()
        .any(|error| error.message.contains(WENT_WRONG))
    {
        return Attempt::Transient(WENT_WRONG.to_owned(), None);
    }
    if answer.data.is_null() {
        let messages: Vec<&str> = answer.errors.iter().map(|e| e.message.as_str()).collect();
        let messages = messages.join("; ");
        return Attempt::Done(Err(if answer.cut_short() {
            GitHubError::QueryLimit {
                answer: messages,
                timed_out: false,
            }
        } else {
            GitHubError::failed_because(format!("GitHub refused the query: {messages}"))
        }));
    }
    Attempt::Done(Ok(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_query_declares_each_alias_and_its_fragments_once() {
        let page = |connection, after: Option<&str>| PageRequest {
            connection,
            subject: "U_1".into(),
            after: after.map(str::to_owned),
        };
        let (query, variables) = pages_query(
            &[
                page(Connection::Followers, None),
                page(Connection::Following, Some("c1")),
                page(Connection::Starred, None),
            ],
            40,
        );
        assert!(query.contains("first: 40"), "{query}");
        assert!(query.contains("$s2: ID!, $a2: String"), "{query}");
        assert_eq!(query.matches("fragment Person").count(), 1, "{query}");
        assert_eq!(query.matches("fragment ListedRepository").count(), 1);
        assert_eq!(variables["a1"], "c1");
        assert_eq!(variables["a0"], Value::Null);
    }
}
