//! One file per resource: its handlers, their OpenAPI annotations and their DTOs.

pub mod auth_token;
pub mod dashboard;
pub mod developers;
pub mod docs;
pub mod export;
pub mod health;
pub mod jobs;
pub mod metrics;
pub mod rate_limits;
pub mod repositories;
pub mod repository_history;
pub mod root;
pub mod stats;
pub mod tasks;

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::resource::Collection;

/// The collections whose records carry URL lists: what `?omit=` may name, in any answer,
/// since each embeds records of the other.
pub static WITH_LISTS: [&Collection; 2] = [&developers::COLLECTION, &repositories::COLLECTION];

/// A hyperlink in `_links` (opt-in with `?links=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
}

impl Link {
    pub fn to(href: String) -> Self {
        Self { href }
    }
}

/// `{"detail": "…"}`: how every refusal reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub detail: String,
}
