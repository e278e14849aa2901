//! Size limits on what a request may carry before any work is done for it.

use std::ops::ControlFlow;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::hook::Hook;

/// Longest request target (path and query) served; gunicorn, before the original, allowed 4 KiB.
pub const MAX_URI_BYTES: usize = 32 * 1024;
/// Largest single header value, and all headers together.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
pub const MAX_HEADERS_TOTAL_BYTES: usize = 64 * 1024;
/// Largest request body: a task form is a few dozen bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub const BODY_TOO_LARGE: &str = "Request body too large.";

/// Refuses a request over a limit before anything else reads it.
#[derive(Clone, Copy, Debug)]
pub struct Limits;

impl Hook for Limits {
    type Kept = ();

    fn before(&self, request: &Request) -> ControlFlow<Response> {
        match check(request) {
            Ok(()) => ControlFlow::Continue(()),
            Err(refused) => ControlFlow::Break(refused.into_response()),
        }
    }
}

fn check(request: &Request) -> Result<(), ApiError> {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Err(ApiError::Status(
            StatusCode::URI_TOO_LONG,
            "Request URI too long.",
        ));
    }
    let mut total = 0;
    for (name, value) in request.headers() {
        let size = name.as_str().len() + value.len();
        total += size;
        if size > MAX_HEADER_BYTES || total > MAX_HEADERS_TOTAL_BYTES {
            return Err(ApiError::Status(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request header fields too large.",
            ));
        }
    }
    // A declared length is refused before anything reads the body; a body without one
    // (chunked) is cut off at the same size by the router's body limit.
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(ApiError::Status(
            StatusCode::PAYLOAD_TOO_LARGE,
            BODY_TOO_LARGE,
        ));
    }
    Ok(())
}
