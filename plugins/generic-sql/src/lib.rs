//! Ferry's generic SQL connector. This file holds only the bindings and the glue between
//! the contract's exports and the connector's modules; the host's `sql` import is reached
//! through the `Database` trait, so the logic also runs natively against SQLite in tests.

wit_bindgen::generate!({
    path: "../../wit",
    world: "plugin",
    additional_derives: [PartialEq],
});

mod config;
mod cursor;
mod database;
mod datetime;
mod delta;
mod describe;
mod discovery;
mod errors;
mod export;
mod import;
mod mapping;
mod named_params;
mod objects;
mod session;
mod statements;
mod values;

#[cfg(test)]
mod tests;

use exports::ferry::connector::connector::{Guest, GuestSession, Session};
use ferry::connector::sql::{self, Dialect, RowSet, SqlError};
use ferry::connector::types::{
    Change, ChangeResult, ConnectorInfo, DeltaPage, Error, ImportPage, Schema, Setting,
};

use database::{Database, Statement};
use session::Connector;

/// The component's export.
struct Component;

impl Guest for Component {
    type Session = HostSession;

    fn describe() -> ConnectorInfo {
        describe::connector_info()
    }
}

/// A session over the host's database.
struct HostSession(Connector<HostDatabase>);

impl GuestSession for HostSession {
    fn open(settings: Vec<Setting>) -> Result<Session, Error> {
        Connector::open(HostDatabase, &settings)
            .map(|connector| Session::new(HostSession(connector)))
    }

    fn test_connection(&self) -> Result<(), Error> {
        self.0.test_connection()
    }

    fn schema(&self) -> Result<Schema, Error> {
        Ok(self.0.schema())
    }

    fn full_import(&self, cursor: Option<String>, page_size: u32) -> Result<ImportPage, Error> {
        self.0.full_import(cursor.as_deref(), page_size)
    }

    fn delta_import(&self, watermark: String, page_size: u32) -> Result<DeltaPage, Error> {
        self.0.delta_import(&watermark, page_size)
    }

    fn export(&self, changes: Vec<Change>) -> Vec<ChangeResult> {
        self.0.export(changes)
    }
}

/// The app's database, through the host's `sql` import.
struct HostDatabase;

impl Database for HostDatabase {
    fn dialect(&self) -> Dialect {
        sql::database_dialect()
    }

    fn quote_identifier(&self, name: &str) -> String {
        sql::quote_identifier(name)
    }

    fn query(&self, statement: &Statement) -> Result<RowSet, SqlError> {
        sql::query(&statement.text, &statement.params)
    }

    fn execute(&self, statement: &Statement) -> Result<u64, SqlError> {
        sql::execute(&statement.text, &statement.params)
    }

    fn begin(&self) -> Result<(), SqlError> {
        sql::begin()
    }

    fn commit(&self) -> Result<(), SqlError> {
        sql::commit()
    }

    fn rollback(&self) -> Result<(), SqlError> {
        sql::rollback()
    }
}

export!(Component);
