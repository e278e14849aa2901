//! Content negotiation as DRF does it: JSON (optionally indented) or the HTML rendering,
//! chosen by `?format=` or the `Accept` header, before authentication runs.

use std::future::ready;
use std::task::{Context, Poll};

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::{BoxFuture, Either};
use serde::Serialize;
use tower::{Layer, Service};

use crate::error::{ApiError, AuthChallenge};
use crate::http::html;
use crate::http::params;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json { indent: Option<usize> },
    Html,
}

/// Bodies are re-rendered in memory; API bodies are pages of ten records, far below this.
const MAX_RENDERED_BODY: usize = 64 * 1024 * 1024;

pub const REALM_CHALLENGE: &str = "Basic realm=\"git-o-matic-9k\"";

/// Picks the renderer for `?format=` (which wins) or the `Accept` header.
pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Result<Format, ApiError> {
    match format {
        Some("json") => return Ok(Format::Json { indent: None }),
        Some("api") => return Ok(Format::Html),
        Some(_) => return Err(ApiError::NotFound),
        None => {}
    }
    let accept = accept
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("*/*");
    // What nearly every client sends, answered without parsing.
    if accept == "*/*" || accept == "application/json" {
        return Ok(Format::Json { indent: None });
    }
    let media: Vec<MediaType> = accept.split(',').map(MediaType::parse).collect();
    // DRF tries the most specific accepted types first, then JSON before HTML.
    for precedence in (0..=3).rev() {
        let level: Vec<&MediaType> = media
            .iter()
            .filter(|m| m.precedence() == precedence)
            .collect();
        for renderer in [("application", "json"), ("text", "html")] {
            if let Some(accepted) = level.iter().find(|m| m.matches(renderer)) {
                return Ok(match renderer {
                    ("text", _) => Format::Html,
                    _ => Format::Json {
                        indent: accepted.indent(),
                    },
                });
            }
        }
    }
    Err(ApiError::NotAcceptable)
}

struct MediaType {
    main: String,
    sub: String,
    params: Vec<(String, String)>,
}

impl MediaType {
    fn parse(text: &str) -> Self {
        let mut parts = text.split(';');
        let full = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let (main, sub) = full.split_once('/').unwrap_or((full.as_str(), ""));
        let params = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_owned(),
                )
            })
            .collect();
        Self {
            main: main.to_owned(),
            sub: sub.to_owned(),
            params,
        }
    }

    fn precedence(&self) -> u8 {
        if self.main == "*" {
            0
        } else if self.sub == "*" {
            1
        } else if self.params.iter().all(|(k, _)| k == "q") {
            2
        } else {
            3
        }
    }

    fn matches(&self, (main, sub): (&str, &str)) -> bool {
        (self.main == "*" || self.main == main) && (self.sub == "*" || self.sub == sub)
    }

    /// `indent=N` for N in 1..=8; anything else (0 included) means compact output.
    fn indent(&self) -> Option<usize> {
        let (_, value) = self.params.iter().find(|(k, _)| k == "indent")?;
        value.parse().ok().filter(|n| (1..=8).contains(n))
    }
}

/// The layer that negotiates first (406 before anything else), lets the rest of the stack
/// run, then renders its JSON answer in the chosen format. Compact JSON, what the handlers
/// write, goes straight through: the request's own future, nothing kept, nothing boxed.
#[derive(Clone, Copy, Debug)]
pub struct NegotiateLayer;

impl<S> Layer<S> for NegotiateLayer {
    type Service = Negotiate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Negotiate(inner)
    }
}

#[derive(Clone, Debug)]
pub struct Negotiate<S>(S);

impl<S> Service<Request> for Negotiate<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let format = params::one(request.uri().query(), "format");
        let accept = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
        let rendering = match negotiate(format.as_deref(), accept) {
            Ok(Format::Json { indent: None }) => return Either::Left(self.0.call(request)),
            Ok(Format::Json {
                indent: Some(indent),
            }) => Rendering::Indented(indent),
            Ok(Format::Html) => Rendering::Html,
            Err(err) => return Either::Right(Box::pin(ready(Ok(err.into_response())))),
        };
        let page = Page {
            method: request.method().clone(),
            path: request
                .uri()
                .path_and_query()
                .map_or_else(|| request.uri().path().to_owned(), ToString::to_string),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .map(|route| route.as_str().to_owned()),
        };
        let answer = self.0.call(request);
        Either::Right(Box::pin(async move {
            Ok(render(answer.await?, rendering, page).await)
        }))
    }
}

/// How an answer is rendered when it is not sent as the handler wrote it.
enum Rendering {
    Indented(usize),
    Html,
}

/// What the HTML page says of the request it answers.
struct Page {
    method: Method,
    path: String,
    route: Option<String>,
}

/// A JSON answer rendered as indented JSON or as the HTML page; any other left as it is.
async fn render(response: Response, rendering: Rendering, page: Page) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
    if !is_json {
        return response;
    }
    match rendering {
        Rendering::Indented(indent) => {
            rewrite_body(response, "application/json", |value| {
                let mut out = Vec::new();
                let pad = vec![b' '; indent];
                let formatter = serde_json::ser::PrettyFormatter::with_indent(&pad);
                let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
                value.serialize(&mut serializer).map(|()| out)
            })
            .await
        }
        Rendering::Html => {
            let challenged = response.extensions().get::<AuthChallenge>().is_some();
            let mut response = rewrite_body(response, "text/html; charset=utf-8", |value| {
                Ok(html::page(
                    page.method.as_str(),
                    &page.path,
                    page.route.as_deref(),
                    &value,
                )
                .into_bytes())
            })
            .await;
            if challenged {
                *response.status_mut() = StatusCode::UNAUTHORIZED;
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static(REALM_CHALLENGE));
            }
            response
        }
    }
}

/// Re-renders a JSON response body as `content_type`; an empty body (a HEAD answer) keeps
/// its emptiness and only takes the new type.
async fn rewrite_body(
    response: Response,
    content_type: &'static str,
    render: impl FnOnce(serde_json::Value) -> serde_json::Result<Vec<u8>>,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_RENDERED_BODY).await {
        Ok(bytes) => bytes,
        Err(err) => {
            return ApiError::Internal(anyhow::anyhow!("cannot render body: {err}"))
                .into_response();
        }
    };
    let body = if bytes.is_empty() {
        Body::empty()
    } else {
        match serde_json::from_slice(&bytes).and_then(render) {
            Ok(rendered) => Body::from(rendered),
            Err(err) => return ApiError::Internal(err.into()).into_response(),
        }
    };
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: &str) -> Result<Format, ApiError> {
        negotiate(None, Some(accept))
    }

    #[test]
    fn json_is_the_default_and_browsers_get_html() {
        assert_eq!(pick("*/*").unwrap(), Format::Json { indent: None });
        assert_eq!(
            negotiate(None, None).unwrap(),
            Format::Json { indent: None }
        );
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(pick(browser).unwrap(), Format::Html);
        assert_eq!(pick("text/*").unwrap(), Format::Html);
        assert_eq!(
            pick("application/json, text/html").unwrap(),
            Format::Json { indent: None }
        );
    }

    #[test]
    fn indent_comes_from_the_accepted_json_type() {
        assert_eq!(
            pick("application/json; indent=4").unwrap(),
            Format::Json { indent: Some(4) }
        );
        for compact in ["indent=0", "indent=9", "indent=-1", "indent=x"] {
            assert_eq!(
                pick(&format!("application/json; {compact}")).unwrap(),
                Format::Json { indent: None },
                "{compact}"
            );
        }
    }

    #[test]
    fn format_parameter_wins_and_unknown_types_are_refused() {
        assert_eq!(
            negotiate(Some("json"), Some("text/html")).unwrap(),
            Format::Json { indent: None }
        );
        assert_eq!(
            negotiate(Some("api"), Some("application/json")).unwrap(),
            Format::Html
        );
        assert!(matches!(
            negotiate(Some("xml"), None),
            Err(ApiError::NotFound)
        ));
        assert!(matches!(
            pick("application/xml"),
            Err(ApiError::NotAcceptable)
        ));
    }
}
