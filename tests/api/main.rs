//! One integration binary: every test runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server where it may create databases.

mod aging;
mod fake_github;
mod helpers;
mod seed;

mod auth;
mod bad_input;
mod browsable;
mod budget;
mod campaign;
mod cli;
mod contract;
mod crash;
mod dashboard;
mod docs;
mod edges;
mod export;
mod filters;
mod graphql;
mod health;
mod import;
mod jobs;
mod metrics;
mod negotiation;
mod ordering;
mod outage;
mod pagination;
mod refresh;
mod resources;
mod restricted;
mod routing;
mod schema;
mod security;
mod sizes;
mod stack;
mod star_history;
mod sync;
