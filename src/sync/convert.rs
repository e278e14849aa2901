//! GitHub's models turned into the records the database stores.

use serde_json::Value;

use crate::db::Timestamp;
use crate::db::records::{ListedDeveloper, Profile, RepositoryRecord};
use crate::github::models::{Repository, SimpleUser, User};

pub fn listed(user: &SimpleUser, raw: Value) -> ListedDeveloper {
    ListedDeveloper {
        github_id: user.id,
        login: user.login.clone(),
        raw,
    }
}

pub fn profile(user: User, raw: Value) -> Profile {
    Profile {
        github_id: user.id,
        login: user.login,
        name: user.name,
        company: user.company,
        location: user.location,
        email: user.email,
        bio: user.bio,
        public_repos: user.public_repos,
        public_gists: user.public_gists,
        followers_count: user.followers,
        following_count: user.following,
        created_at: user.created_at.map(Timestamp),
        updated_at: user.updated_at.map(Timestamp),
        raw,
    }
}

/// `full` when `raw` is the repository's own page rather than a list item.
pub fn repository(repo: Repository, raw: Value, full: bool) -> RepositoryRecord {
    let owner_raw = raw.get("owner").cloned().unwrap_or(Value::Null);
    RepositoryRecord {
        github_id: repo.id,
        owner: listed(&repo.owner, owner_raw),
        name: repo.name,
        full_name: repo.full_name,
        description: repo.description,
        homepage: repo.homepage,
        language: repo.language,
        created_at: repo.created_at.map(Timestamp),
        updated_at: repo.updated_at.map(Timestamp),
        has_downloads: repo.has_downloads,
        has_issues: repo.has_issues,
        has_pages: repo.has_pages,
        has_projects: repo.has_projects,
        has_wiki: repo.has_wiki,
        private: repo.private,
        archived: repo.archived,
        disabled: repo.disabled,
        stargazers_count: repo.stargazers_count,
        subscribers_count: repo.subscribers_count,
        watchers_count: repo.watchers_count,
        open_issues_count: repo.open_issues_count,
        full,
        raw,
    }
}

/// A path segment with everything but unreserved characters escaped: logins and repository
/// names are safe already, this keeps a bad one from changing the request.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
