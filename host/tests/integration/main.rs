//! The host's integration tests, in one binary so the runtime is linked once: real
//! components (from `cargo xtask plugins`) through the real runtime, against real
//! databases and local network servers.

mod admission;
mod common;
mod contract_versions;
mod generic_sql;
mod hostile;
mod net;
mod properties;
mod runtime;
