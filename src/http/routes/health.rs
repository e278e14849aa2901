//! Probes for platforms and load balancers. `/health/` says the process serves HTTP and
//! never touches the database, so a database outage does not get the process restarted;
//! `/ready/` says whether the database answers, for routing traffic elsewhere meanwhile.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

/// How long the database may take to answer a readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health() -> &'static str {
    "ok"
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match tokio::time::timeout(PROBE_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({"database": "ok"}))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: the database does not answer");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer in time");
            unavailable()
        }
    }
}

fn unavailable() -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"database": "unavailable"})),
    )
}
