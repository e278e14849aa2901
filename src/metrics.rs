//! Prometheus metrics, through the `metrics` facade and its Prometheus exporter: the names
//! and labels live here. Events (requests answered, GitHub calls, job runs, records
//! stored) are counted as they happen, per process; the state of the store (jobs by kind and
//! status, the queue's lag, GitHub's quotas, record totals) is read from the database when
//! scraped, so that every process on it reports the same.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{OnceLock, PoisonError};
use std::time::Duration;

use metrics::{Counter, Histogram, counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::Mutex;

use crate::db::jobs::JobStatus;
use crate::db::{Db, Timestamp};

const HTTP_DURATION: &str = "http_request_duration_seconds";
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// One scrape at a time: the store's gauges are set, then rendered, and two scrapes
/// interleaved could render another's figures.
static RENDERING: Mutex<()> = Mutex::const_new(());

/// The process's recorder, installed on first use. Without it (one-off commands) the
/// counting below costs next to nothing and records nothing.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        // Samples wait in per-thread buffers until upkeep folds them in: without it, a
        // process nobody scrapes would keep every latency it ever measured.
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        handle
    })
}

/// The text exposition of every metric, the store's state read from `db` first (the jobs of
/// each of `job_kinds`, at zero when there are none); and the pools' use, for each named
/// pool.
pub async fn render(
    db: &Db,
    pools: &[(&'static str, Db)],
    job_kinds: &[&'static str],
) -> sqlx::Result<String> {
    let handle = install();
    let _rendering = RENDERING.lock().await;
    let now = Timestamp::now();
    for &name in job_kinds {
        for status in JobStatus::ALL {
            gauge!("jobs", "kind" => name, "status" => status.as_str()).set(0.0);
        }
    }
    for jobs in db.job_counts().await? {
        gauge!("jobs", "kind" => jobs.name, "status" => jobs.status).set(jobs.count as f64);
    }
    let lag = db
        .oldest_due(now)
        .await?
        .map_or(0.0, |due| (now.0 - due.0).as_seconds_f64().max(0.0));
    gauge!("job_queue_lag_seconds").set(lag);
    for quota in db.every_quota().await? {
        let resource = quota.resource;
        gauge!("github_quota_limit", "resource" => resource.clone()).set(quota.limit as f64);
        gauge!("github_quota_remaining", "resource" => resource.clone())
            .set(quota.remaining as f64);
        gauge!("github_quota_reset_timestamp_seconds", "resource" => resource)
            .set(quota.reset as f64);
    }
    // A restriction another process lifted reads as lifted here too.
    for list in [
        "repositories",
        "followers",
        "following",
        "starred",
        "stargazers",
    ] {
        github_list_restriction(list, false);
    }
    for restriction in db.list_restrictions().await? {
        github_list_restriction(&restriction.list, true);
    }
    for (table, total) in db.record_totals().await? {
        gauge!("records", "table" => table).set(total as f64);
    }
    let figures = db.figures().await?;
    for (table, ages) in figures.freshness.tables() {
        for (age, count) in ages.named() {
            gauge!("records_by_age", "table" => table, "age" => age).set(count as f64);
        }
    }
    gauge!("repositories_kilobytes").set(figures.space.kilobytes as f64);
    for (list, coverage) in figures.completeness.lists() {
        gauge!("graph_edges", "list" => list, "side" => "stored").set(coverage.stored as f64);
        gauge!("graph_edges", "list" => list, "side" => "github").set(coverage.github as f64);
    }
    for (name, pool) in pools {
        let (size, idle) = pool.pool_usage();
        gauge!("db_pool_connections", "pool" => *name, "state" => "idle").set(idle as f64);
        gauge!("db_pool_connections", "pool" => *name, "state" => "in_use")
            .set(size.saturating_sub(idle as u32) as f64);
    }
    handle.run_upkeep();
    Ok(handle.render())
}

/// The series of one kind of answer: its count, and the latency of its method and route.
struct AnswerSeries {
    method: &'static str,
    status: u16,
    answers: Counter,
    latency: Histogram,
}

thread_local! {
    /// Each thread's handles on the series it has counted in, by route: a handle from the
    /// registry needs a key built (a few allocations) and looked up, and answers come by the
    /// thousand a second.
    static ANSWER_SERIES: RefCell<HashMap<Box<str>, Vec<AnswerSeries>>> =
        RefCell::new(HashMap::new());
}

/// An answer of ours: `route` is the matched route's template, never the raw path, so that
/// ids do not make a series each.
pub fn http_answered(method: &str, route: &str, status: u16, elapsed: Duration) {
    // Handles taken before the recorder is installed would record nothing for ever after.
    if HANDLE.get().is_none() {
        return;
    }
    let method: &'static str = match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    ANSWER_SERIES.with_borrow_mut(|routes| {
        let series = match routes.get_mut(route) {
            Some(series) => series,
            None => routes.entry(route.into()).or_default(),
        };
        let index = match series
            .iter()
            .position(|kind| kind.method == method && kind.status == status)
        {
            Some(index) => index,
            None => {
                series.push(AnswerSeries {
                    method,
                    status,
                    answers: counter!("http_requests_total", "method" => method,
                        "route" => route.to_owned(), "status" => status.to_string()),
                    latency: histogram!(HTTP_DURATION, "method" => method,
                        "route" => route.to_owned()),
                });
                series.len() - 1
            }
        };
        let kind = &series[index];
        kind.answers.increment(1);
        kind.latency.record(elapsed.as_secs_f64());
    });
}

/// A request to GitHub answered (`status`) or failed before an answer (`"error"`).
pub fn github_request(resource: &str, status: &str) {
    counter!("github_requests_total", "resource" => resource.to_owned(),
        "status" => status.to_owned())
    .increment(1);
}

/// Requests a GitHub client sent that the dashboard's history has not saved yet, by
/// resource.
#[derive(Debug, Default)]
pub struct UnsavedRequests(std::sync::Mutex<BTreeMap<String, i64>>);

impl UnsavedRequests {
    pub fn add(&self, resource: &str, requests: i64) {
        let mut unsaved = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *unsaved.entry(resource.to_owned()).or_default() += requests;
    }

    /// Every count, leaving none.
    pub fn take(&self) -> BTreeMap<String, i64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A request to GitHub tried again after a transient fault.
pub fn github_retry() {
    counter!("github_retries_total").increment(1);
}

/// A secondary rate limit met.
pub fn github_secondary_limit() {
    counter!("github_secondary_limits_total").increment(1);
}

/// A GraphQL query GitHub cut short, `why` being "timeout" (its points spent for nothing)
/// or "resources" (part of its data left out); `points` is what it cost, by the client's
/// estimate.
pub fn github_query_limited(why: &'static str, points: i64) {
    counter!("github_graphql_limited_total", "why" => why).increment(1);
    if why == "timeout" {
        counter!("github_graphql_points_lost_total").increment(points.max(0) as u64);
    }
}

/// How much one GraphQL query asks now: lists per query, items per list, ids per `nodes`.
pub fn github_query_size(lists: usize, items: usize, ids: usize) {
    for (knob, value) in [("lists", lists), ("items", items), ("ids", ids)] {
        gauge!("github_graphql_query_size", "knob" => knob).set(value as f64);
    }
}

/// A list GitHub refused to the credential (`restricted`), or served again after a probe.
pub fn github_list_restriction(list: &str, restricted: bool) {
    gauge!("github_list_restricted", "list" => list.to_owned())
        .set(f64::from(u8::from(restricted)));
}

/// How a run of a job ended: succeeded, failed, retried (to run again after a failure),
/// postponed (until a quota resets) or released (the worker stopped, or the database left).
pub fn job_run(kind: &str, outcome: &'static str) {
    counter!("job_runs_total", "kind" => kind.to_owned(), "outcome" => outcome).increment(1);
}

/// Records and edges a sync wrote (inserted or brought up to date).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    pub developers: usize,
    pub repositories: usize,
    pub edges: usize,
}

impl Stored {
    pub fn count(self) {
        for (kind, n) in [
            ("developers", self.developers),
            ("repositories", self.repositories),
            ("edges", self.edges),
        ] {
            if n > 0 {
                counter!("records_stored_total", "kind" => kind).increment(n as u64);
            }
        }
    }
}
