//! GitHub's JSON turned into the records the database stores.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

use crate::db::developers::{DeveloperProfile, ListedDeveloper, ProfileRecord};
use crate::db::repositories::{RepositoryCounts, RepositoryDetails, RepositoryRecord};
use crate::github::models::{Repository, SimpleUser};

pub fn listed(user: &SimpleUser, raw: Value) -> ListedDeveloper {
    ListedDeveloper {
        github_id: user.id,
        login: user.login.clone(),
        raw,
    }
}

/// A developer's own profile (`GET /users/{login}`).
pub fn profile(raw: Value) -> serde_json::Result<ProfileRecord> {
    let user = SimpleUser::deserialize(&raw)?;
    Ok(ProfileRecord {
        github_id: user.id,
        login: user.login,
        profile: DeveloperProfile::deserialize(&raw)?,
        raw,
    })
}

/// A repository; `full` when `raw` is its own page rather than a list item.
pub fn repository(raw: Value, full: bool) -> serde_json::Result<RepositoryRecord> {
    let repository = Repository::deserialize(&raw)?;
    let owner_raw = raw.get("owner").cloned().unwrap_or(Value::Null);
    Ok(RepositoryRecord {
        github_id: repository.id,
        owner: listed(&repository.owner, owner_raw),
        details: RepositoryDetails::deserialize(&raw)?,
        counts: RepositoryCounts::deserialize(&raw)?,
        full,
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
