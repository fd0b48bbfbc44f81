//! Running connector logic natively, without a host (feature `testing`): fakes of the
//! host's capabilities and drivers that run whole imports the way the host does.
//!
//! * [`MemoryLog`]: a `log` that keeps its lines, for asserting what was logged;
//! * [`TcpNetwork`]: a `net` over plain `std::net::TcpStream`, against a real server the
//!   test started, that can also cut its connections or fail a write on purpose;
//! * `Sqlite` (feature `testing-sqlite`): the `sql` capability played by an embedded
//!   SQLite, converting values the way the host's driver does;
//! * [`import_all`] and [`delta_all`]: every page of a full or delta import, with the
//!   contract's paging rules checked on the way.

mod imports;
mod log;
#[cfg(feature = "testing-sqlite")]
mod sqlite;
mod tcp;

pub use imports::{delta_all, import_all};
pub use log::MemoryLog;
/// The SQLite bindings [`Sqlite`] runs on, for tests that create tables and read rows
/// beside the connector, on the same connection.
#[cfg(feature = "testing-sqlite")]
pub use rusqlite;
#[cfg(feature = "testing-sqlite")]
pub use sqlite::Sqlite;
pub use tcp::TcpNetwork;
