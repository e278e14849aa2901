//! `ApiError`: every refusal the API makes, rendered in DRF's JSON shape.
//! Internal causes are logged and never sent to the client.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Not found.")]
    NotFound,
    #[error("Invalid page.")]
    InvalidPage,
    #[error("Could not satisfy the request Accept header.")]
    NotAcceptable,
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// Credentials were given and are wrong; the text says how.
    #[error("{0}")]
    AuthenticationFailed(String),
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(String),
    /// Bad query parameters: each key names one, with its messages.
    #[error("invalid parameters")]
    InvalidParams(Map<String, Value>),
    #[error("{0}")]
    BadRequest(String),
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// A refusal with its own status, before the request reaches the API proper.
    #[error("{1}")]
    Status(StatusCode, &'static str),
    /// Too many failed logins: DRF's throttle message, with Retry-After.
    #[error("Request was throttled. Expected available in {0} seconds.")]
    Throttled(u64),
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Marks a response as an authentication failure, which a browser gets as a 401 challenge.
#[derive(Clone, Copy, Debug)]
pub struct AuthChallenge;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound | Self::InvalidPage => StatusCode::NOT_FOUND,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::NotAuthenticated | Self::AuthenticationFailed(_) => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::InvalidParams(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Status(status, _) => *status,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn invalid_param(name: &str, message: &str) -> Self {
        let mut errors = Map::new();
        errors.insert(name.to_owned(), json!([message]));
        Self::InvalidParams(errors)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&err) {
            Self::Unavailable(err)
        } else {
            Self::Internal(err.into())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::InvalidParams(errors) => Value::Object(errors.clone()),
            Self::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                json!({"detail": "The database is unavailable. Try again shortly."})
            }
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                json!({"detail": "A server error occurred."})
            }
            other => json!({"detail": other.to_string()}),
        };
        let mut response = (status, Json(body)).into_response();
        if matches!(self, Self::NotAuthenticated | Self::AuthenticationFailed(_)) {
            response.extensions_mut().insert(AuthChallenge);
        }
        if let Self::Throttled(seconds) = self {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// An error and its causes on one line, `outer: inner: innermost`: what logs and a job's
/// `last_error` show, since an error's own message rarely says why.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
