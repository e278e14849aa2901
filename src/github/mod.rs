//! The GitHub client: one per process. It spends quota carefully — conditional requests,
//! `per_page=100`, `Link` pagination — refuses to send what the quota cannot afford
//! (the caller postpones), pauses everything on a secondary limit, and retries transient
//! faults. It knows nothing of the database: it reports quota and validators to its caller.

mod link;
pub mod models;
mod quota;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, ETAG, HeaderMap, IF_NONE_MATCH, LAST_MODIFIED, LINK, RETRY_AFTER,
    USER_AGENT,
};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::{Config, Secret};
pub use quota::Quota;

const API_VERSION: &str = "2022-11-28";
const JSON: &str = "application/vnd.github+json";
/// Secondary limits in a row before a request is given up.
const MAX_SECONDARY_WAITS: u32 = 6;

/// What made a request fail, kept so that logs show why.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Why a request produced no answer to use.
#[derive(Clone, Debug, thiserror::Error)]
pub enum GitHubError {
    /// The quota left cannot afford the request; try again after `until`.
    #[error("GitHub quota exhausted until {until}")]
    Postpone { until: DateTime<Utc> },
    /// 404 or 410: the user or repository is gone.
    #[error("GitHub answered {status}: gone")]
    Gone { status: u16 },
    /// 451: blocked for legal reasons; asking again will not help.
    #[error("GitHub answered 451: blocked")]
    Blocked,
    /// 422 "pagination is limited": the list can be read no further.
    #[error("GitHub limits how far this list can be paged")]
    PaginationLimited,
    /// Faults persisted past the retries, or GitHub answered something unexpected.
    #[error("GitHub request failed: {what}")]
    Failed {
        what: String,
        #[source]
        cause: Option<Cause>,
    },
}

impl GitHubError {
    pub fn failed(
        what: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Failed {
            what: what.into(),
            cause: Some(Arc::new(cause)),
        }
    }

    fn failed_because(what: impl Into<String>) -> Self {
        Self::Failed {
            what: what.into(),
            cause: None,
        }
    }
}

/// What a GET brought back.
#[derive(Debug)]
pub enum Fetched {
    /// A body: JSON, its validators, and the `rel="next"` page if any.
    Fresh {
        body: Value,
        etag: Option<String>,
        last_modified: Option<String>,
        next: Option<String>,
    },
    /// 304: what the caller holds is current.
    NotModified,
}

pub struct GitHub {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
    in_flight: Semaphore,
    quotas: Mutex<HashMap<String, Quota>>,
    /// While set, no request leaves: a secondary limit asked the client to wait.
    paused_until: Mutex<Option<Instant>>,
    threshold: i64,
    share: f64,
    max_retries: u32,
    retry_base: Duration,
    secondary_wait: Duration,
}

enum Attempt {
    Done(Result<Fetched, GitHubError>),
    /// A fault worth another try: what failed, and why when something said.
    Transient(String, Option<Cause>),
    Secondary(Option<Duration>),
}

impl GitHub {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(config.github_timeout_seconds);
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            base: config.github_api_url.trim_end_matches('/').to_owned(),
            token: config.github_token.clone(),
            in_flight: Semaphore::new(config.github_max_in_flight as usize),
            quotas: Mutex::new(HashMap::new()),
            paused_until: Mutex::new(None),
            threshold: i64::from(config.rate_limit_stop_threshold),
            share: config.github_quota_share,
            max_retries: config.github_max_retries,
            retry_base: Duration::from_millis(config.github_retry_base_ms),
            secondary_wait: Duration::from_secs(config.github_secondary_wait_seconds),
        })
    }

    /// The absolute URL of an API path (`/users/octocat`), under GitHub Enterprise's prefix too.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The first page of a list: GitHub's largest page size, so the fewest requests.
    pub fn list_url(&self, path: &str) -> String {
        format!("{}{path}?per_page=100", self.base)
    }

    /// Every quota GitHub has reported so far.
    pub fn quotas(&self) -> Vec<Quota> {
        let quotas = self.quotas.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<Quota> = quotas.values().cloned().collect();
        all.sort_by(|a, b| a.resource.cmp(&b.resource));
        all
    }

    /// GETs `url` (conditionally, when `etag` is given), within the quota and through faults.
    pub async fn get(
        &self,
        url: &str,
        etag: Option<&str>,
        accept: Option<&str>,
    ) -> Result<Fetched, GitHubError> {
        let mut transient = 0;
        let mut secondary = 0;
        loop {
            self.wait_out_pause().await;
            let _permit = self
                .in_flight
                .acquire()
                .await
                .map_err(|_| GitHubError::failed_because("the client is shutting down"))?;
            self.ensure_quota().await?;
            match self.attempt(url, etag, accept).await {
                Attempt::Done(result) => return result,
                Attempt::Transient(what, cause) => {
                    transient += 1;
                    if transient > self.max_retries {
                        return Err(GitHubError::Failed {
                            what: format!("{what} (after {} retries)", self.max_retries),
                            cause,
                        });
                    }
                    let delay = jittered(self.retry_base * 2u32.saturating_pow(transient - 1));
                    let why = cause
                        .as_deref()
                        .map(|cause| crate::error::chain(cause))
                        .unwrap_or_default();
                    tracing::warn!(%url, %what, %why, retry_in = ?delay, "transient GitHub fault");
                    tokio::time::sleep(delay).await;
                }
                Attempt::Secondary(retry_after) => {
                    secondary += 1;
                    if secondary > MAX_SECONDARY_WAITS {
                        return Err(GitHubError::failed_because(
                            "secondary rate limit persisted",
                        ));
                    }
                    let wait = retry_after
                        .unwrap_or(self.secondary_wait * 2u32.saturating_pow(secondary - 1));
                    tracing::warn!(%url, pause = ?wait, "secondary rate limit: pausing every request");
                    let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
                    let until = Instant::now() + wait;
                    *paused = Some(paused.map_or(until, |current| current.max(until)));
                }
            }
        }
    }

    async fn wait_out_pause(&self) {
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Refuses a request the core quota cannot afford. With no quota known yet, asks
    /// `/rate_limit`, which costs nothing.
    async fn ensure_quota(&self) -> Result<(), GitHubError> {
        let known = self.core_quota();
        let quota = match known {
            Some(quota) => quota,
            None => match self.fetch_rate_limit().await {
                Some(quota) => quota,
                // Without an answer, let the request itself tell.
                None => return Ok(()),
            },
        };
        if quota.allows(self.threshold, self.share, Utc::now()) {
            Ok(())
        } else {
            Err(GitHubError::Postpone {
                until: quota.reset_at(),
            })
        }
    }

    fn core_quota(&self) -> Option<Quota> {
        let quotas = self.quotas.lock().unwrap_or_else(|e| e.into_inner());
        quotas.get("core").cloned()
    }

    fn remember(&self, quota: Quota) {
        let mut quotas = self.quotas.lock().unwrap_or_else(|e| e.into_inner());
        quotas.insert(quota.resource.clone(), quota);
    }

    async fn fetch_rate_limit(&self) -> Option<Quota> {
        let response = self
            .request(&self.url("/rate_limit"), None, None)
            .send()
            .await
            .ok()?;
        let body: Value = serde_json::from_slice(&response.bytes().await.ok()?).ok()?;
        let resources = body.get("resources")?.as_object()?;
        for (resource, values) in resources {
            let number = |key: &str| values.get(key).and_then(Value::as_i64);
            if let (Some(limit), Some(remaining), Some(reset)) =
                (number("limit"), number("remaining"), number("reset"))
            {
                self.remember(Quota {
                    resource: resource.clone(),
                    limit,
                    remaining,
                    reset,
                });
            }
        }
        self.core_quota()
    }

    fn request(
        &self,
        url: &str,
        etag: Option<&str>,
        accept: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .get(url)
            .header(
                USER_AGENT,
                concat!("git-o-matic-9k/", env!("CARGO_PKG_VERSION")),
            )
            .header(ACCEPT, accept.unwrap_or(JSON))
            .header("X-GitHub-Api-Version", API_VERSION);
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        request
    }

    async fn attempt(&self, url: &str, etag: Option<&str>, accept: Option<&str>) -> Attempt {
        let response = match self.request(url, etag, accept).send().await {
            Ok(response) => response,
            Err(err) => {
                return Attempt::Transient("sending the request".into(), Some(Arc::new(err)));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let quota = Quota::from_headers(&headers);
        if let Some(quota) = quota.clone() {
            self.remember(quota);
        }
        if status == StatusCode::NOT_MODIFIED {
            return Attempt::Done(Ok(Fetched::NotModified));
        }
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(err) => return Attempt::Transient("reading the body".into(), Some(Arc::new(err))),
        };
        if status.is_success() {
            return match serde_json::from_slice(&bytes) {
                Ok(body) => Attempt::Done(Ok(Fetched::Fresh {
                    body,
                    etag: header(&headers, ETAG),
                    last_modified: header(&headers, LAST_MODIFIED),
                    next: header(&headers, LINK).and_then(|link| link::next_url(&link)),
                })),
                Err(err) => Attempt::Transient("invalid JSON".into(), Some(Arc::new(err))),
            };
        }
        let message = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|body| {
                body.get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        match status.as_u16() {
            403 | 429 if quota.as_ref().is_some_and(|q| q.remaining == 0) => {
                let until =
                    quota.map_or_else(|| Utc::now() + chrono::Duration::hours(1), |q| q.reset_at());
                Attempt::Done(Err(GitHubError::Postpone { until }))
            }
            403 | 429
                if headers.contains_key(RETRY_AFTER)
                    || message
                        .to_ascii_lowercase()
                        .contains("secondary rate limit") =>
            {
                let retry_after = header(&headers, RETRY_AFTER)
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Attempt::Secondary(retry_after)
            }
            404 | 410 => Attempt::Done(Err(GitHubError::Gone {
                status: status.as_u16(),
            })),
            451 => Attempt::Done(Err(GitHubError::Blocked)),
            422 if message.contains("pagination is limited") => {
                Attempt::Done(Err(GitHubError::PaginationLimited))
            }
            500..=599 => Attempt::Transient(format!("GitHub answered {status}"), None),
            _ => Attempt::Done(Err(GitHubError::failed_because(format!(
                "GitHub answered {status}: {message}"
            )))),
        }
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// `delay` plus up to half as much again, so that retries from many places spread out.
fn jittered(delay: Duration) -> Duration {
    delay + delay.mul_f64(fastrand::f64() / 2.0)
}
