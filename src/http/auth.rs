//! Authentication of API requests: `Authorization: Basic` or `Bearer`, with DRF's messages.

use axum::extract::{Request, State};
use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::auth::AuthError;
use crate::db::users::ApiUser;
use crate::error::ApiError;
use crate::http::request::client_address;
use crate::state::AppState;

/// What an `Authorization` header offers.
pub enum Credentials {
    Basic { username: String, password: String },
    Bearer(String),
}

/// Reads the `Authorization` header: `None` when there is none, or none of a scheme we know.
pub fn credentials(headers: &HeaderMap) -> Result<Option<Credentials>, ApiError> {
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let parts: Vec<&[u8]> = header
        .as_bytes()
        .split(u8::is_ascii_whitespace)
        .filter(|part| !part.is_empty())
        .collect();
    let failed = |message: &str| Err(ApiError::AuthenticationFailed(message.to_owned()));
    let Some(scheme) = parts.first() else {
        return Ok(None);
    };
    if scheme.eq_ignore_ascii_case(b"basic") {
        match parts.len() {
            1 => return failed("Invalid basic header. No credentials provided."),
            2 => {}
            _ => {
                return failed(
                    "Invalid basic header. Credentials string should not contain spaces.",
                );
            }
        }
        let Ok(decoded) = STANDARD.decode(parts[1]) else {
            return failed("Invalid basic header. Credentials not correctly base64 encoded.");
        };
        // As DRF: UTF-8, else Latin-1; the password is everything after the first colon.
        let text = String::from_utf8(decoded)
            .unwrap_or_else(|err| err.into_bytes().iter().map(|&b| char::from(b)).collect());
        let (username, password) = text.split_once(':').unwrap_or((&text, ""));
        return Ok(Some(Credentials::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        }));
    }
    if scheme.eq_ignore_ascii_case(b"bearer") {
        return match parts.len() {
            1 => failed("Invalid token header. No credentials provided."),
            2 => match std::str::from_utf8(parts[1]) {
                Ok(token) => Ok(Some(Credentials::Bearer(token.to_owned()))),
                Err(_) => failed(
                    "Invalid token header. Token string should not contain invalid characters.",
                ),
            },
            _ => failed("Invalid token header. Token string should not contain spaces."),
        };
    }
    Ok(None)
}

/// The user behind Basic credentials: what `/github/auth_token/` accepts.
pub async fn basic_user(
    state: &AppState,
    client: IpAddr,
    headers: &HeaderMap,
) -> Result<ApiUser, ApiError> {
    match credentials(headers)? {
        Some(Credentials::Basic { username, password }) => Ok(state
            .auth
            .basic(&state.db, client, &username, &password)
            .await?),
        Some(Credentials::Bearer(_)) => Err(ApiError::AuthenticationFailed(
            "Use Basic authentication to obtain a token.".to_owned(),
        )),
        None => Err(ApiError::NotAuthenticated),
    }
}

/// Middleware for every route that needs a user: refuses, or lets the request through with
/// the `ApiUser` in its extensions.
pub async fn require_user(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let user = match credentials(request.headers())? {
        Some(Credentials::Basic { username, password }) => {
            let client = client_address(&state, request.extensions(), request.headers());
            state
                .auth
                .basic(&state.db, client, &username, &password)
                .await?
        }
        Some(Credentials::Bearer(token)) => state.auth.bearer(&state.db, &token).await?,
        None => return Err(ApiError::NotAuthenticated),
    };
    request.extensions_mut().insert(user);
    Ok(next.run(request).await)
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Database(cause) => cause.into(),
            AuthError::Throttled(seconds) => ApiError::Throttled(seconds),
            other => ApiError::AuthenticationFailed(other.to_string()),
        }
    }
}
