//! `ApiRequest`: what a handler needs of the request to answer with absolute links —
//! the origin (scheme and host, from proxy headers when the peer is trusted), the path,
//! the query, and the `format` to carry into every link.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::HOST;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use uuid::Uuid;

use crate::config::TrustedProxies;
use crate::error::ApiError;
use crate::http::params::{Params, quote_plus};
use crate::http::resource::Collection;
use crate::http::routes::{developers, repositories};
use crate::state::AppState;

pub struct ApiRequest {
    origin: String,
    path: String,
    pub params: Params,
    format: Option<String>,
}

impl ApiRequest {
    /// The absolute URL of `path` on this service, with the request's `format` carried.
    pub fn link(&self, path: &str) -> String {
        // Pushed, not formatted: a page of records writes dozens of these.
        let mut link = String::with_capacity(self.origin.len() + path.len());
        link.push_str(&self.origin);
        link.push_str(path);
        if let Some(format) = &self.format {
            link.push_str("?format=");
            link.push_str(&quote_plus(format));
        }
        link
    }

    /// The URL of record `id` of `collection`.
    pub fn record(&self, collection: &Collection, id: impl fmt::Display) -> String {
        self.link(&format!("{}{id}/", collection.path))
    }

    pub fn developer(&self, id: Uuid) -> String {
        self.record(&developers::COLLECTION, id)
    }

    pub fn repository(&self, id: Uuid) -> String {
        self.record(&repositories::COLLECTION, id)
    }

    /// Page `page` of the collection at `path`, with the request's `format` carried.
    pub fn page_of(&self, path: &str, page: u64) -> String {
        let format = self
            .format
            .as_ref()
            .map(|f| format!("format={}", quote_plus(f)));
        let query = Params::parse(format.as_deref()).with("page", Some(&page.to_string()));
        format!("{}{path}?{query}", self.origin)
    }

    /// This request's URL with `cursor` set and `page` dropped: a cursor page's links.
    pub fn with_cursor(&self, cursor: &str) -> String {
        format!(
            "{}{}?{}",
            self.origin,
            self.path,
            self.params.with_cursor(cursor)
        )
    }

    /// This request's URL with `page` set (or dropped): DRF's next and previous links.
    pub fn with_page(&self, page: Option<u64>) -> String {
        let page = page.map(|n| n.to_string());
        let query = self.params.with("page", page.as_deref());
        if query.is_empty() {
            format!("{}{}", self.origin, self.path)
        } else {
            format!("{}{}?{query}", self.origin, self.path)
        }
    }
}

impl FromRequestParts<AppState> for ApiRequest {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let trusted = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| state.config.forwarded_allow_ips.allows(&peer.ip()));
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                // A proxy chain lists several values; the first is the client's.
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let forwarded_host = trusted.then(|| header("x-forwarded-host")).flatten();
        let host = forwarded_host
            .or_else(|| header(HOST.as_str()))
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or("localhost");
        if !valid_host(host) {
            return Err(ApiError::BadRequest("Invalid Host header.".to_owned()));
        }
        let scheme = match trusted.then(|| header("x-forwarded-proto")).flatten() {
            Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let mut origin = String::with_capacity(scheme.len() + 3 + host.len());
        origin.push_str(scheme);
        origin.push_str("://");
        origin.push_str(host);
        origin.make_ascii_lowercase();
        let params = Params::parse(parts.uri.query());
        let format = params.non_empty("format").map(str::to_owned);
        Ok(Self {
            origin,
            path: parts.uri.path().to_owned(),
            params,
            format,
        })
    }
}

/// The client's address: the peer's or, when the peer is a trusted proxy, the nearest address
/// the proxies forward that is not one of them (each proxy appends to X-Forwarded-For, so
/// what a client writes there itself stays on the left and cannot pass for another client).
pub fn client_address(state: &AppState, extensions: &Extensions, headers: &HeaderMap) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| {
            peer.ip()
        });
    let proxies = &state.config.forwarded_allow_ips;
    if !proxies.allows(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    // From the right, as the proxies appended; an entry that is not an address ends the walk
    // (the peer then stands for the client), so an entry the client wrote never moves up.
    for hop in forwarded.into_iter().rev() {
        let Ok(hop) = hop.parse::<IpAddr>() else {
            return peer;
        };
        // Behind a platform's router that trusts all, the router's own entry is the client.
        if matches!(proxies, TrustedProxies::All) || !proxies.allows(&hop) {
            return hop;
        }
    }
    peer
}

/// A host name or address with an optional port: what Django's host validation accepts.
fn valid_host(host: &str) -> bool {
    host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
}
