//! GitHub's JSON turned into the records the database stores.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

use crate::db::Timestamp;
use crate::db::developers::{DeveloperProfile, ListedDeveloper, ProfileRecord};
use crate::db::repositories::{RepositoryCounts, RepositoryDetails, RepositoryRecord, Source};
use crate::github::graphql;
use crate::github::models::{Permissions, Repository, SimpleUser};

/// A user as a REST list names them.
pub fn listed(user: &SimpleUser, raw: Value) -> ListedDeveloper {
    ListedDeveloper {
        github_id: user.id,
        login: user.login.clone(),
        node_id: user.node_id.clone(),
        raw,
    }
}

/// A developer's own profile (`GET /users/{login}`).
pub fn profile(raw: Value) -> serde_json::Result<ProfileRecord> {
    let user = SimpleUser::deserialize(&raw)?;
    Ok(ProfileRecord {
        github_id: user.id,
        login: user.login,
        node_id: user.node_id,
        profile: DeveloperProfile::deserialize(&raw)?,
        disk_usage: None,
        raw,
    })
}

/// A repository over REST; `full` when `raw` is its own page rather than a list item.
pub fn repository(raw: Value, full: bool) -> serde_json::Result<RepositoryRecord> {
    let repository = Repository::deserialize(&raw)?;
    let owner_raw = raw.get("owner").cloned().unwrap_or(Value::Null);
    Ok(RepositoryRecord {
        github_id: repository.id,
        node_id: repository.node_id,
        owner: listed(&repository.owner, owner_raw),
        details: RepositoryDetails::deserialize(&raw)?,
        counts: RepositoryCounts::deserialize(&raw)?,
        source: if full { Source::Page } else { Source::RestList },
        collaborates: repository.permissions.map(Permissions::collaborates),
        raw,
    })
}

/// A user or organization as a GraphQL list names them.
pub fn graphql_listed(raw: Value) -> serde_json::Result<ListedDeveloper> {
    let named = graphql::Named::deserialize(&raw)?;
    Ok(ListedDeveloper {
        github_id: named.database_id,
        login: named.login,
        node_id: Some(named.id),
        raw,
    })
}

/// A user's profile over GraphQL, stored as `GET /users/{login}` would have it: an email
/// GraphQL gives as `""` is REST's `null`.
pub fn graphql_profile(raw: Value) -> serde_json::Result<ProfileRecord> {
    let user = graphql::Profile::deserialize(&raw)?;
    let profile = DeveloperProfile {
        name: user.name,
        location: user.location,
        bio: user.bio,
        company: user.company,
        email: user.email.filter(|email| !email.is_empty()),
        created_at: user.created_at.map(Timestamp),
        updated_at: user.updated_at.map(Timestamp),
        followers_count: Some(user.followers.total_count),
        following_count: Some(user.following.total_count),
        public_gists: Some(user.gists.total_count),
        public_repos: Some(user.repositories.total_count),
    };
    Ok(ProfileRecord {
        github_id: user.database_id,
        login: user.login,
        node_id: Some(user.id),
        profile,
        disk_usage: Some(user.repositories.total_disk_usage),
        raw,
    })
}

/// A repository as a GraphQL list shows it: the fields GraphQL has as REST does (REST's
/// `watchers_count` is its stargazers count); the others stay unknown.
pub fn graphql_repository(raw: Value) -> serde_json::Result<RepositoryRecord> {
    let repo = graphql::ListedRepository::deserialize(&raw)?;
    let owner_raw = raw.get("owner").cloned().unwrap_or(Value::Null);
    let details = RepositoryDetails {
        name: repo.name,
        full_name: repo.name_with_owner,
        description: repo.description,
        homepage: repo.homepage_url,
        language: repo.primary_language.map(|language| language.name),
        created_at: repo.created_at.map(Timestamp),
        updated_at: repo.updated_at.map(Timestamp),
        has_issues: Some(repo.has_issues_enabled),
        has_projects: Some(repo.has_projects_enabled),
        has_wiki: Some(repo.has_wiki_enabled),
        private: Some(repo.is_private),
        archived: Some(repo.is_archived),
        disabled: Some(repo.is_disabled),
        ..RepositoryDetails::default()
    };
    let counts = RepositoryCounts {
        stargazers_count: Some(repo.stargazer_count),
        watchers_count: Some(repo.stargazer_count),
        size: repo.disk_usage,
        ..RepositoryCounts::default()
    };
    Ok(RepositoryRecord {
        github_id: repo.database_id,
        node_id: Some(repo.id),
        owner: ListedDeveloper {
            github_id: repo.owner.database_id,
            login: repo.owner.login,
            node_id: Some(repo.owner.id),
            raw: owner_raw,
        },
        details,
        counts,
        source: Source::GraphqlList,
        collaborates: repo
            .viewer_permission
            .map(|permission| permission != "READ"),
        raw,
    })
}

/// What a path segment keeps unescaped: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path segment with everything but unreserved characters escaped: logins and repository
/// names are safe already, this keeps a bad one from changing the request.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}
