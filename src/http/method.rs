//! DRF's body for a known path asked with the wrong method; axum has already set `Allow`.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

pub async fn explain_not_allowed(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(axum::http::header::ALLOW).cloned();
    let mut explained = ApiError::MethodNotAllowed(method).into_response();
    if let Some(allow) = allow {
        explained
            .headers_mut()
            .insert(axum::http::header::ALLOW, allow);
    }
    explained
}
