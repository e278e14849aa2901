//! `AppState`: what every handler may use. Cheap to clone.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::db::Db;
use crate::db::count_cache::CountCache;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The workers' and the scheduler's pool: the metrics show its use.
    pub work_db: Db,
    pub config: Arc<Config>,
    pub auth: Arc<Authenticator>,
    /// Downloads of the graph under way may hold this many permits, each a pooled connection.
    pub exports: Arc<Semaphore>,
    /// The lists' large counts, remembered a while.
    pub counts: Arc<CountCache>,
}
