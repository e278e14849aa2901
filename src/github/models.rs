//! What identifies GitHub's records in its JSON. The fields stored beside the identity are
//! read by the records' own field lists (`db::developers`, `db::repositories`), and every
//! record also keeps its raw JSON.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// A user (or organization) as every answer names one; a profile has these too.
#[derive(Clone, Debug, Deserialize)]
pub struct SimpleUser {
    pub id: i64,
    pub login: String,
    /// GraphQL's id.
    pub node_id: Option<String>,
}

/// A repository from a list or its own page.
#[derive(Clone, Debug, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub node_id: Option<String>,
    pub owner: SimpleUser,
    /// What the credential may do there; GitHub says it to authenticated callers only.
    pub permissions: Option<Permissions>,
}

/// A credential's permissions in a repository, as REST names them.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Permissions {
    pub admin: bool,
    pub maintain: bool,
    pub push: bool,
    pub triage: bool,
}

impl Permissions {
    /// Whether GitHub counts the credential among the repository's admins and
    /// collaborators, to whom it serves the lists it restricts.
    pub fn collaborates(self) -> bool {
        self.admin || self.maintain || self.push || self.triage
    }
}

/// A stargazer with `Accept: application/vnd.github.star+json`.
#[derive(Clone, Debug, Deserialize)]
pub struct Stargazer {
    pub starred_at: Option<DateTime<Utc>>,
    pub user: SimpleUser,
}

/// A starred repository with `Accept: application/vnd.github.star+json`.
#[derive(Clone, Debug, Deserialize)]
pub struct StarredRepository {
    pub starred_at: Option<DateTime<Utc>>,
    pub repo: Value,
}

/// The media type that adds `starred_at` to star lists.
pub const STAR_JSON: &str = "application/vnd.github.star+json";
