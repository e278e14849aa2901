//! One integration binary: every test runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server where it may create databases.

mod helpers;

mod cli;
mod health;
mod schema;
