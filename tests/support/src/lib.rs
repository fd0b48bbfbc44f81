//! Real servers for Ferry's tests, private to the test process.
//!
//! Ferry talks to real targets, so its tests do too: each server here is a throwaway
//! instance on a free loopback port in its own temporary folder, never the machine's
//! system service. A missing server makes the test fail with a message saying what to
//! install; nothing is skipped.
//!
//! Every server is paired with a lifeline watchdog (`src/lifeline.rs`) that stops it and removes
//! its folder when the server is dropped *or* when the test process ends in any way
//! (normal exit with the server still in a `static`, panic, `SIGKILL`).
//!
//! The users API ([`TestApi`]) runs inside the test process itself, so it ends with it.

mod api;
mod certs;
mod daemon;
mod ldif;
mod lifeline;
mod ports;
mod postgres;
mod process;
mod slapd;
mod users_table;

pub use api::TestApi;
pub use ports::free_port;
pub use postgres::{TempPostgres, shared_postgres};
pub use process::stop_child;
pub use slapd::{TempSlapd, shared_slapd};
pub use users_table::POSTGRES_USERS_TABLE;
