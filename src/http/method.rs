//! DRF's body for a known path asked with the wrong method; axum has already set `Allow`.

use std::ops::ControlFlow;

use axum::extract::Request;
use axum::http::header::ALLOW;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::hook::Hook;

#[derive(Clone, Copy, Debug)]
pub struct ExplainNotAllowed;

impl Hook for ExplainNotAllowed {
    type Kept = Method;

    fn before(&self, request: &Request) -> ControlFlow<Response, Method> {
        ControlFlow::Continue(request.method().clone())
    }

    fn after(&self, method: Method, response: Response) -> Response {
        if response.status() != StatusCode::METHOD_NOT_ALLOWED {
            return response;
        }
        let allow = response.headers().get(ALLOW).cloned();
        let mut explained = ApiError::MethodNotAllowed(method.to_string()).into_response();
        if let Some(allow) = allow {
            explained.headers_mut().insert(ALLOW, allow);
        }
        explained
    }
}
