//! The GitHub client: one per process, over REST and GraphQL. It spends quota carefully —
//! conditional requests, `per_page=100`, `Link` pagination, a quota per resource checked
//! before each request (the caller postpones what cannot be afforded), a place among the
//! credential's requests in flight, shared with other processes through a `Ledger` — pauses
//! everything on a secondary limit, and retries transient faults. It knows nothing of the
//! database: it reports quotas and validators to its caller.

mod credential;
pub mod graphql;
pub mod ledger;
mod link;
pub mod models;
mod quota;
pub mod sizing;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, ETAG, HeaderMap, IF_NONE_MATCH, LAST_MODIFIED, LINK, RETRY_AFTER,
    USER_AGENT,
};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::Config;
use crate::metrics::UnsavedRequests;
pub use credential::Credential;
use ledger::{Ledger, Place};
pub use quota::{CORE, GRAPHQL, Quota, Quotas};

const JSON: &str = "application/vnd.github+json";
const USER_AGENT_VALUE: &str = concat!("git-o-matic-9k/", env!("CARGO_PKG_VERSION"));
/// Secondary limits in a row before a request is given up.
const MAX_SECONDARY_WAITS: u32 = 6;

/// What made a request fail, kept so that logs show why.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Why a request produced no answer to use.
#[derive(Clone, Debug, thiserror::Error)]
pub enum GitHubError {
    /// The quota of `resource` cannot afford the request; try again after `until`.
    #[error("GitHub's {resource} quota is exhausted until {until}")]
    Postpone {
        resource: String,
        until: DateTime<Utc>,
    },
    /// 404 or 410: the user or repository is gone.
    #[error("GitHub answered {status}: gone")]
    Gone { status: u16 },
    /// 451: blocked for legal reasons; asking again will not help.
    #[error("GitHub answered 451: blocked")]
    Blocked,
    /// The credential may not read this (403 "Resource not accessible by …", GraphQL's
    /// `FORBIDDEN`): GitHub restricts it, the subject is there.
    #[error("GitHub refuses this to the credential: {answer}")]
    Restricted { answer: String },
    /// A GraphQL query over GitHub's execution limits: it timed out (its points spent), or
    /// came back without data for being too heavy. Smaller queries get through.
    #[error("GitHub cut the query short: {answer}")]
    QueryLimit { answer: String, timed_out: bool },
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

    pub fn failed_because(what: impl Into<String>) -> Self {
        Self::Failed {
            what: what.into(),
            cause: None,
        }
    }
}

/// What a REST GET brought back.
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

/// An answer as it came over the wire.
struct Received {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// How one try of a request ended.
enum Attempt<T> {
    Done(Result<T, GitHubError>),
    /// A fault worth another try: what failed, and why when something said.
    Transient(String, Option<Cause>),
    Secondary(Option<Duration>),
    /// 401: the credential may be renewed once.
    Unauthorized(String),
}

pub struct GitHub {
    http: reqwest::Client,
    base: String,
    graphql_url: String,
    credential: Credential,
    graphql_enabled: bool,
    graphql_timeout: Duration,
    /// How much one GraphQL query asks, learnt from GitHub's limits.
    sizing: sizing::Sizing,
    api_version: String,
    /// Points GitHub charged for the latest whole GraphQL answer: what a time-out loses.
    last_cost: std::sync::atomic::AtomicI64,
    ledger: Arc<dyn Ledger>,
    /// What names the credential in shared budgets (never the secret).
    credential_id: String,
    in_flight: Semaphore,
    quotas: Quotas,
    /// While set, no request leaves: a secondary limit asked the client to wait.
    paused_until: Mutex<Option<Instant>>,
    threshold: i64,
    share: f64,
    max_retries: u32,
    retry_base: Duration,
    secondary_wait: Duration,
    /// What was sent, for the dashboard's requests per hour.
    unsaved: UnsavedRequests,
}

impl GitHub {
    /// The client `config` describes; its credential's requests in flight and quotas are
    /// shared through `ledger` with every other process that uses it.
    pub fn new(config: &Config, ledger: Arc<dyn Ledger>) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(config.github_timeout_seconds);
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()?;
        let base = config.github_api_url.trim_end_matches('/').to_owned();
        let credential = Credential::from_config(config)?;
        Ok(Self {
            http,
            graphql_url: graphql_url(&base),
            base,
            graphql_enabled: config.github_graphql && !credential.is_anonymous(),
            graphql_timeout: Duration::from_secs(config.github_graphql_timeout_seconds),
            sizing: sizing::Sizing::default(),
            api_version: config.github_api_version.clone(),
            last_cost: std::sync::atomic::AtomicI64::new(1),
            credential_id: credential.id(),
            credential,
            ledger,
            in_flight: Semaphore::new(config.github_max_in_flight as usize),
            quotas: Quotas::default(),
            paused_until: Mutex::new(None),
            threshold: i64::from(config.rate_limit_stop_threshold),
            share: config.github_quota_share,
            max_retries: config.github_max_retries,
            retry_base: Duration::from_millis(config.github_retry_base_ms),
            secondary_wait: Duration::from_secs(config.github_secondary_wait_seconds),
            unsaved: UnsavedRequests::default(),
        })
    }

    /// The requests sent and not yet saved in the dashboard's history.
    pub fn unsaved_requests(&self) -> &UnsavedRequests {
        &self.unsaved
    }

    /// Counts a request answered with `status`, or `"error"` when no answer came.
    fn sent(&self, resource: &str, status: &str) {
        crate::metrics::github_request(resource, status);
        if status != "error" {
            self.unsaved.add(resource, 1);
        }
    }

    /// The absolute URL of an API path (`/users/octocat`), under GitHub Enterprise's prefix too.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The first page of a list: GitHub's largest page size, so the fewest requests.
    pub fn list_url(&self, path: &str) -> String {
        format!("{}{path}?per_page=100", self.base)
    }

    /// Whether GraphQL may be used: it is enabled and there is a credential (GitHub refuses
    /// anonymous GraphQL calls).
    pub fn graphql_enabled(&self) -> bool {
        self.graphql_enabled
    }

    /// How much a GraphQL query asks at most now.
    pub fn sizing(&self) -> &sizing::Sizing {
        &self.sizing
    }

    /// What names the credential where what GitHub allows it is kept (never the secret).
    pub fn credential_id(&self) -> &str {
        &self.credential_id
    }

    /// Whether `resource`'s quota, as last known here, allows a request now.
    pub fn affords(&self, resource: &str) -> bool {
        self.quotas
            .get(resource)
            .is_none_or(|quota| quota.allows(self.threshold, self.share, Utc::now()))
    }

    /// Whether `resource`'s quota is idle: more than half of its window left, as last known,
    /// and affordable. What may be spent there without holding back the work that needs it.
    pub fn idle(&self, resource: &str) -> bool {
        self.affords(resource)
            && self
                .quotas
                .get(resource)
                .is_some_and(|quota| quota.remaining * 2 > quota.limit)
    }

    /// Every quota GitHub has reported so far.
    pub fn quotas(&self) -> Vec<Quota> {
        self.quotas.all()
    }

    /// GETs `url` (conditionally, when `etag` is given), within the core quota and through
    /// faults.
    pub async fn get(
        &self,
        url: &str,
        etag: Option<&str>,
        accept: Option<&str>,
    ) -> Result<Fetched, GitHubError> {
        let request = || {
            let mut request = self.http.get(url).header(ACCEPT, accept.unwrap_or(JSON));
            if let Some(etag) = etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            request
        };
        self.call(CORE, url, request, interpret_rest).await
    }

    /// Sends `request` until it has an answer to use: each try waits for a secondary-limit
    /// pause, a place in flight (here and in the ledger) and `resource`'s quota.
    async fn call<T>(
        &self,
        resource: &str,
        url: &str,
        request: impl Fn() -> reqwest::RequestBuilder,
        interpret: impl Fn(Received, Option<&Quota>) -> Attempt<T>,
    ) -> Result<T, GitHubError> {
        let (mut transient, mut secondary, mut renewed) = (0, 0, false);
        loop {
            self.wait_out_pause().await;
            let attempt = {
                let _permit = self
                    .in_flight
                    .acquire()
                    .await
                    .map_err(|_| GitHubError::failed_because("the client is shutting down"))?;
                self.try_once(resource, &request, &interpret).await
            };
            match attempt {
                Attempt::Done(result) => return result,
                Attempt::Unauthorized(message) => {
                    if renewed || !self.credential.renew().await {
                        return Err(GitHubError::failed_because(format!(
                            "GitHub refused the credential (401): {message}"
                        )));
                    }
                    tracing::info!(%url, "GitHub answered 401: renewing the credential");
                    renewed = true;
                }
                Attempt::Transient(what, cause) => {
                    crate::metrics::github_retry();
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
                    crate::metrics::github_secondary_limit();
                    secondary += 1;
                    if secondary > MAX_SECONDARY_WAITS {
                        return Err(GitHubError::failed_because(
                            "secondary rate limit persisted",
                        ));
                    }
                    let wait = retry_after
                        .unwrap_or(self.secondary_wait * 2u32.saturating_pow(secondary - 1));
                    tracing::warn!(%url, pause = ?wait, "secondary rate limit: pausing every request");
                    self.pause(wait).await;
                }
            }
        }
    }

    /// One try: the credential's token first (fetching one may take a while), then a place in
    /// flight, held while the quota is learnt and checked and the request sent.
    async fn try_once<T>(
        &self,
        resource: &str,
        request: &impl Fn() -> reqwest::RequestBuilder,
        interpret: &impl Fn(Received, Option<&Quota>) -> Attempt<T>,
    ) -> Attempt<T> {
        let token = match self.credential.bearer(&self.http, &self.base).await {
            Ok(token) => token,
            Err(err) => return Attempt::Done(Err(err)),
        };
        let place = match self.take_place().await {
            Ok(place) => place,
            Err(err) => return Attempt::Done(Err(err)),
        };
        if self.quotas.get(resource).is_none() {
            // Nothing known of this quota, here or elsewhere: `/rate_limit` says, and costs
            // nothing (though it is a request in flight like any other).
            self.fetch_rate_limit(token.as_deref()).await;
        }
        let attempt = match self.check_quota(resource) {
            Ok(()) => self.attempt(token, request, resource, interpret).await,
            Err(err) => Attempt::Done(Err(err)),
        };
        place.give_back(&self.quotas.all()).await;
        attempt
    }

    /// Sends the request and reads its answer: what it says of the quota is kept, and what
    /// it means is `interpret`'s, once the refusals any answer may be are set apart.
    async fn attempt<T>(
        &self,
        token: Option<String>,
        request: &impl Fn() -> reqwest::RequestBuilder,
        resource: &str,
        interpret: &impl Fn(Received, Option<&Quota>) -> Attempt<T>,
    ) -> Attempt<T> {
        let mut request = request()
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header("X-GitHub-Api-Version", &self.api_version);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                self.sent(resource, "error");
                if err.is_timeout() && resource == GRAPHQL {
                    return Attempt::Done(Err(GitHubError::QueryLimit {
                        answer: format!("no answer within {:?}", self.graphql_timeout),
                        timed_out: true,
                    }));
                }
                return Attempt::Transient("sending the request".into(), Some(Arc::new(err)));
            }
        };
        let status = response.status();
        self.sent(resource, status.as_str());
        let headers = response.headers().clone();
        let quota = Quota::from_headers(&headers);
        if let Some(quota) = quota.clone() {
            self.quotas.observe(quota);
        }
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => return Attempt::Transient("reading the body".into(), Some(Arc::new(err))),
        };
        let received = Received {
            status,
            headers,
            body,
        };
        if let Some(refusal) = refusal(&received, quota.as_ref(), resource) {
            return refusal;
        }
        interpret(received, quota.as_ref())
    }

    async fn wait_out_pause(&self) {
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Holds every request back for `wait`, here and (through the ledger) in every process
    /// using the credential.
    async fn pause(&self, wait: Duration) {
        {
            let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            let until = Instant::now() + wait;
            *paused = Some(paused.map_or(until, |current| current.max(until)));
        }
        let until = Utc::now() + wait;
        if let Err(err) = self.ledger.pause(&self.credential_id, until).await {
            tracing::warn!(error = %err, "cannot share a secondary limit's pause");
        }
    }

    /// What the other processes using the credential last saw of its quotas.
    async fn learn_quotas(&self) -> Result<(), GitHubError> {
        let quotas = self
            .ledger
            .quotas(&self.credential_id)
            .await
            .map_err(ledger_failed)?;
        quotas
            .into_iter()
            .for_each(|quota| self.quotas.observe(quota));
        Ok(())
    }

    /// A place among the credential's requests in flight across processes (waiting out a
    /// pause another process shared), with what the others last saw of the quotas.
    async fn take_place(&self) -> Result<Held, GitHubError> {
        let place = self
            .ledger
            .acquire(&self.credential_id)
            .await
            .map_err(ledger_failed)?;
        let held = Held {
            ledger: Arc::clone(&self.ledger),
            place: Some(place),
        };
        self.learn_quotas().await?;
        Ok(held)
    }

    /// Refuses a request `resource`'s quota cannot afford, as last known.
    fn check_quota(&self, resource: &str) -> Result<(), GitHubError> {
        match self.quotas.get(resource) {
            Some(quota) if !quota.allows(self.threshold, self.share, Utc::now()) => {
                Err(GitHubError::Postpone {
                    resource: resource.to_owned(),
                    until: quota.reset_at(),
                })
            }
            // Without an answer, let the request itself tell.
            _ => Ok(()),
        }
    }

    async fn fetch_rate_limit(&self, token: Option<&str>) {
        let mut request = self
            .http
            .get(self.url("/rate_limit"))
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header("X-GitHub-Api-Version", &self.api_version)
            .header(ACCEPT, JSON);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let Ok(response) = request.send().await else {
            self.sent("rate_limit", "error");
            return;
        };
        self.sent("rate_limit", response.status().as_str());
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        let resources = body.get("resources").and_then(Value::as_object);
        for (resource, values) in resources.into_iter().flatten() {
            let number = |key: &str| values.get(key).and_then(Value::as_i64);
            if let (Some(limit), Some(remaining), Some(reset)) =
                (number("limit"), number("remaining"), number("reset"))
            {
                self.quotas.observe(Quota {
                    resource: resource.clone(),
                    limit,
                    remaining,
                    reset,
                });
            }
        }
    }
}

/// A place in the ledger, given back with what the answer said of the quotas; a request
/// dropped half-way (its job stopped) gives its place back all the same.
struct Held {
    ledger: Arc<dyn Ledger>,
    place: Option<Place>,
}

impl Held {
    async fn give_back(mut self, quotas: &[Quota]) {
        let Some(place) = self.place.take() else {
            return;
        };
        let (ledger, quotas) = (Arc::clone(&self.ledger), quotas.to_vec());
        // A task of its own, so that a request dropped while giving its place back (its job
        // stopped) still gives it back, not leaving it held until its lease runs out.
        let released = tokio::spawn(async move { ledger.release(place, &quotas).await }).await;
        let err = match released {
            Ok(Ok(())) => return,
            Ok(Err(err)) => err.to_string(),
            Err(err) => err.to_string(),
        };
        // The place's lease runs out by itself; only the others' view of the quota lags.
        tracing::warn!(error = %err, "cannot give back a place in the shared GitHub budget");
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let (Some(place), Ok(runtime)) = (self.place.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let ledger = Arc::clone(&self.ledger);
        runtime.spawn(async move {
            let _ = ledger.release(place, &[]).await;
        });
    }
}

fn ledger_failed(err: Box<dyn std::error::Error + Send + Sync>) -> GitHubError {
    GitHubError::Failed {
        what: "the shared GitHub budget".into(),
        cause: Some(Arc::from(err)),
    }
}

/// What any answer may say before its body is read: the quota is spent, a secondary limit,
/// a credential refused, a server fault.
fn refusal<T>(received: &Received, quota: Option<&Quota>, resource: &str) -> Option<Attempt<T>> {
    let status = received.status;
    let message = error_message(&received.body);
    match status.as_u16() {
        401 => Some(Attempt::Unauthorized(message)),
        403 | 429 if quota.is_some_and(|q| q.remaining == 0) => {
            let until =
                quota.map_or_else(|| Utc::now() + chrono::Duration::hours(1), Quota::reset_at);
            Some(Attempt::Done(Err(GitHubError::Postpone {
                resource: quota.map_or(resource, |q| &q.resource).to_owned(),
                until,
            })))
        }
        403 | 429
            if received.headers.contains_key(RETRY_AFTER)
                || message
                    .to_ascii_lowercase()
                    .contains("secondary rate limit") =>
        {
            let retry_after = header(&received.headers, RETRY_AFTER)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            Some(Attempt::Secondary(retry_after))
        }
        502 | 504 if resource == GRAPHQL && message.contains(TIMED_OUT) => {
            Some(Attempt::Done(Err(GitHubError::QueryLimit {
                answer: format!("{status}: {message}"),
                timed_out: true,
            })))
        }
        500..=599 => Some(Attempt::Transient(
            format!("GitHub answered {status}"),
            None,
        )),
        _ => None,
    }
}

/// What GitHub's 502 says of a query it ended after 10 seconds ("We couldn't respond to your
/// request in time. Sorry about that. …").
const TIMED_OUT: &str = "couldn't respond to your request in time";

/// A 403 that is no rate limit (those are set apart before) and says the credential may not
/// read the resource: GitHub's answer to a restricted list.
fn restricted(status: StatusCode, message: &str) -> Option<GitHubError> {
    (status == StatusCode::FORBIDDEN && message.to_ascii_lowercase().contains("not accessible"))
        .then(|| GitHubError::Restricted {
            answer: format!("{}: {message}", status.as_u16()),
        })
}

/// A REST answer: a body, a 304, or what GitHub's refusal says of the record.
fn interpret_rest(received: Received, _quota: Option<&Quota>) -> Attempt<Fetched> {
    let Received {
        status,
        headers,
        body,
    } = received;
    if status == StatusCode::NOT_MODIFIED {
        return Attempt::Done(Ok(Fetched::NotModified));
    }
    if status.is_success() {
        return match serde_json::from_slice(&body) {
            Ok(body) => Attempt::Done(Ok(Fetched::Fresh {
                body,
                etag: header(&headers, ETAG),
                last_modified: header(&headers, LAST_MODIFIED),
                next: header(&headers, LINK).and_then(|link| link::next_url(&link)),
            })),
            Err(err) => Attempt::Transient("invalid JSON".into(), Some(Arc::new(err))),
        };
    }
    let message = error_message(&body);
    if let Some(restricted) = restricted(status, &message) {
        return Attempt::Done(Err(restricted));
    }
    Attempt::Done(Err(match status.as_u16() {
        404 | 410 => GitHubError::Gone {
            status: status.as_u16(),
        },
        451 => GitHubError::Blocked,
        422 if message.contains("pagination is limited") => GitHubError::PaginationLimited,
        _ => GitHubError::failed_because(format!("GitHub answered {status}: {message}")),
    }))
}

/// The `message` of GitHub's JSON error body, if any.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|body| {
            body.get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// GitHub's GraphQL endpoint for a REST base: `https://api.github.com/graphql`, and on
/// GitHub Enterprise (`https://HOST/api/v3`) `https://HOST/api/graphql`.
fn graphql_url(base: &str) -> String {
    match base.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{base}/graphql"),
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// `delay` plus up to half as much again, so that retries from many places spread out.
fn jittered(delay: Duration) -> Duration {
    delay + delay.mul_f64(fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graphql_endpoint_follows_the_rest_base() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://ghe.example/api/v3"),
            "https://ghe.example/api/graphql"
        );
    }
}
