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
mod postgres;
mod process;
mod slapd;
mod users_table;

pub use api::TestApi;
pub use postgres::{TempPostgres, shared_postgres};
pub use process::stop_child;
pub use slapd::{TempSlapd, shared_slapd};
pub use users_table::POSTGRES_USERS_TABLE;

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts.
///
/// The port is released before it is returned, so another process may take it first;
/// servers started here retry with a new port when theirs is taken.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("cannot bind a free port on 127.0.0.1")
        .port()
}
