//! git-o-matic-9k: discovers GitHub users and repositories and serves them over a REST API.

pub mod app; // the service assembled from a Config: connect, migrate, bind, serve
pub mod auth; // API users: passwords, the credential cache, tokens
pub mod cli; // the gitomatic subcommands
pub mod config; // settings from defaults, a TOML file, the environment and flags
pub mod db; // SQLite or PostgreSQL storage, migrations and the SQL of each aggregate
pub mod error; // ApiError, the one error type of the HTTP API
pub mod export; // the graph as GraphML, CSV or NDJSON, streamed
pub mod github; // the rate-limit-aware GitHub client and its models
pub mod http; // the router and the /github/ API
pub mod import; // another service's database into ours: the Django service's
pub mod jobs; // durable jobs: kinds, workers, the scheduler
pub mod metrics; // Prometheus metrics: names, labels, what is counted and what is read when scraped
pub mod state; // AppState shared by handlers
pub mod sync; // GitHub answers into stored records: one function per sync kind
pub mod telemetry; // tracing set-up
