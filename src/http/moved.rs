//! Records merged on import answer at their imported ids: a developer or repository the
//! Django service knew under another id than ours (the same GitHub account, merged into the
//! record we had) is redirected to, so that links stored from the original still lead to it.

use axum::extract::{Request, State};
use axum::http::header::LOCATION;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::state::AppState;

pub async fn redirect_merged(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let wanted = (request.method() == Method::GET || request.method() == Method::HEAD)
        .then(|| record_path(request.uri().path()))
        .flatten();
    let query = request.uri().query().map(str::to_owned);
    let response = next.run(request).await;
    let Some((collection, id, rest)) = wanted else {
        return response;
    };
    if response.status() != StatusCode::NOT_FOUND {
        return response;
    }
    match state.db.merged_into(id, collection).await {
        Ok(Some(ours)) => {
            let mut target = format!("/github/{collection}/{ours}/{rest}");
            if let Some(query) = query {
                target.push('?');
                target.push_str(&query);
            }
            (StatusCode::MOVED_PERMANENTLY, [(LOCATION, target)]).into_response()
        }
        // The 404 stands: the database's trouble is not this answer's.
        _ => response,
    }
}

/// `/github/developers/{id}/rest` → ("developers", id, "rest").
fn record_path(path: &str) -> Option<(&'static str, Uuid, String)> {
    let rest = path.strip_prefix("/github/")?;
    let (collection, rest) = rest.split_once('/')?;
    let collection = match collection {
        "developers" => "developers",
        "repositories" => "repositories",
        _ => return None,
    };
    let (id, rest) = rest.split_once('/')?;
    Some((collection, id.parse().ok()?, rest.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_record_paths_are_redirected() {
        let id = Uuid::new_v4();
        assert_eq!(
            record_path(&format!("/github/developers/{id}/followers/")),
            Some(("developers", id, "followers/".to_owned()))
        );
        assert_eq!(
            record_path(&format!("/github/repositories/{id}/")),
            Some(("repositories", id, String::new()))
        );
        assert_eq!(record_path(&format!("/github/jobs/{id}/")), None);
        assert_eq!(record_path("/github/developers/not-an-id/"), None);
        assert_eq!(record_path("/github/developers/"), None);
    }
}
