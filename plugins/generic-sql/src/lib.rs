//! Ferry's generic SQL connector. This file holds only the glue between the SDK's
//! `Connector` trait and the connector's modules; the logic reaches the host's `sql`
//! import through the SDK's `Database` trait, so it also runs natively against SQLite in
//! tests.

mod anchor;
mod config;
mod cursor;
mod delta;
mod describe;
mod discovery;
mod errors;
mod export;
mod import;
mod key_move;
mod link_types;
mod mapping;
mod named_params;
mod objects;
mod session;
mod statements;
mod values;

#[cfg(test)]
mod tests;

use ferry_connector::sql::HostDatabase;
use ferry_connector::types::ConnectorInfo;
use ferry_connector::{Connector, Error, Settings};

use session::SqlSession;

/// The component's export.
struct GenericSql;

impl Connector for GenericSql {
    type Session = SqlSession<HostDatabase>;

    fn describe() -> ConnectorInfo {
        describe::connector_info()
    }

    fn open(settings: &Settings) -> Result<Self::Session, Error> {
        SqlSession::open(HostDatabase, settings)
    }
}

ferry_connector::export!(GenericSql);
