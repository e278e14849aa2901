//! Conditional GETs: every successful GET answer carries a strong `ETag` (a hash of the
//! bytes sent), and a request whose `If-None-Match` names it gets a bodiless 304, so a
//! client polling an unchanged page (a dashboard, a script waiting for a job) downloads
//! nothing. It sits outside compression: the tag is that of the encoded bytes, so a gzip
//! answer and a plain one have different tags, as strong tags must.

use std::fmt::Write;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::digest;

use crate::error::ApiError;

/// Answers are built in memory before they are sent; none comes near this.
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Marks an answer streamed as it is produced (a download of the whole graph): tagging it
/// would mean holding all of it in memory first.
#[derive(Clone, Copy, Debug)]
pub struct Streamed;

pub async fn conditional(request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let wanted = request.headers().get(IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK
        || response.headers().contains_key(ETAG)
        || response.extensions().get::<Streamed>().is_some()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(err) => {
            return ApiError::Internal(anyhow::anyhow!("reading an answer to tag it: {err}"))
                .into_response();
        }
    };
    let tag = tag_of(&bytes);
    if wanted.is_some_and(|wanted| names(&wanted, &tag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        for header in [CONTENT_LENGTH, CONTENT_TYPE, CONTENT_ENCODING] {
            parts.headers.remove(header);
        }
        parts.headers.insert(ETAG, tag);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(ETAG, tag);
    Response::from_parts(parts, Body::from(bytes))
}

/// `"` + the first 128 bits of the body's SHA-256, in hex + `"`.
fn tag_of(bytes: &[u8]) -> HeaderValue {
    let hash = digest::digest(&digest::SHA256, bytes);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &hash.as_ref()[..16] {
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    HeaderValue::from_str(&tag).expect("hex digits are a valid header value")
}

/// Whether `If-None-Match` names `tag`: `*`, or one of its comma-separated tags, compared
/// weakly (a `W/` prefix is ignored), as RFC 9110 says for this header.
fn names(wanted: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(wanted) = wanted.to_str() else {
        return false;
    };
    let tag = tag.to_str().unwrap_or_default();
    wanted.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_is_read_as_rfc_9110_says() {
        let tag = tag_of(b"{}");
        assert_eq!(tag.len(), 34);
        let matching = |text: &str| names(&HeaderValue::from_str(text).unwrap(), &tag);
        let text = tag.to_str().unwrap();
        assert!(matching(text));
        assert!(matching(&format!("W/{text}")));
        assert!(matching(&format!("\"other\", {text}")));
        assert!(matching("*"));
        assert!(!matching("\"other\""));
        assert!(!matching(&text[..20]));
        assert_ne!(tag, tag_of(b"{ }"));
    }
}
