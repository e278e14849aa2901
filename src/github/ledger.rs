//! The budget of a credential shared by several processes: GitHub counts a token's quota
//! and asks for one request at a time per token, whatever number of processes hold it. The
//! client asks a `Ledger` for a place before each request and tells it what the answer said
//! of the quotas; where it is kept (the database) is the caller's business.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

use super::quota::Quota;

pub type LedgerResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
pub type LedgerFuture<'a, T> = Pin<Box<dyn Future<Output = LedgerResult<T>> + Send + 'a>>;

/// One of the places for a request in flight with a credential, held until given back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub credential: String,
    pub slot: i64,
    /// Who holds it: this holding alone, so that a place taken over after its lease ran out
    /// is not given back by the one who lost it.
    pub holder: String,
}

pub trait Ledger: Send + Sync {
    /// Waits for a place for a request with `credential` (known by an id that is not the
    /// secret), and out any pause; a process that dies holding a place loses it after a while.
    fn acquire<'a>(&'a self, credential: &'a str) -> LedgerFuture<'a, Place>;

    /// Gives `place` back, recording the quotas as they stand.
    fn release<'a>(&'a self, place: Place, observed: &'a [Quota]) -> LedgerFuture<'a, ()>;

    /// The quotas of `credential` any process recorded last.
    fn quotas<'a>(&'a self, credential: &'a str) -> LedgerFuture<'a, Vec<Quota>>;

    /// Holds every process's requests with `credential` back until `until` (GitHub asked
    /// for a pause: a secondary limit); `acquire` waits it out.
    fn pause<'a>(&'a self, credential: &'a str, until: DateTime<Utc>) -> LedgerFuture<'a, ()>;
}
