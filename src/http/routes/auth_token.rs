//! `/github/auth_token/`: trades Basic credentials for a bearer token.

use axum::Json;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::http::auth::basic_user;
use crate::http::request::client_address;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthToken {
    /// An HS256 JWT to send as `Authorization: Bearer <token>` until it expires.
    pub auth_token: String,
}

/// A token for the user whose Basic credentials came with the request.
#[utoipa::path(get, path = "/github/auth_token/", tag = "auth", operation_id = "auth_token_issue", security(("basic" = [])),
    responses((status = 200, description = "A new token", body = AuthToken)))]
pub async fn issue(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
) -> Result<Json<AuthToken>, ApiError> {
    let client = client_address(&state, &extensions, &headers);
    let user = basic_user(&state, client, &headers).await?;
    Ok(Json(AuthToken {
        auth_token: state.auth.issue_token(&user),
    }))
}

/// The same as `GET`, for clients that fetch tokens with a POST.
#[utoipa::path(post, path = "/github/auth_token/", tag = "auth", operation_id = "auth_token_issue_post", security(("basic" = [])),
    responses((status = 200, description = "A new token", body = AuthToken)))]
pub async fn issue_post(
    state: State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
) -> Result<Json<AuthToken>, ApiError> {
    issue(state, extensions, headers).await
}
