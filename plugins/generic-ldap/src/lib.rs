//! Ferry's generic LDAP connector. This file holds only the bindings and the glue between
//! the contract's exports and the connector's modules; the host's `net` and `log` imports
//! are reached through the `Host` and `Transport` traits, so the LDAP logic also runs
//! natively over TCP against a real slapd in tests.

wit_bindgen::generate!({
    path: "../../wit",
    world: "plugin",
    additional_derives: [PartialEq],
});

mod accesslog;
mod client;
mod config;
mod cursor;
mod delta;
mod describe;
mod directory;
mod disable;
mod dn;
mod entries;
mod errors;
mod escape;
mod export;
mod filter;
mod import;
mod schema;
mod session;
mod subschema;
mod template;
mod time;
mod transport;
mod values;

#[cfg(test)]
mod tests;

use exports::ferry::connector::connector::{Guest, GuestSession, Session};
use ferry::connector::log::{self, Level};
use ferry::connector::net::{self, NetError, Security};
use ferry::connector::types::{
    Change, ChangeResult, ConnectorInfo, DeltaPage, Error, ImportPage, Schema, Setting,
};

use session::Connector;
use transport::{Host, Transport};

/// The component's export.
struct Component;

impl Guest for Component {
    type Session = HostSession;

    fn describe() -> ConnectorInfo {
        describe::connector_info()
    }
}

/// A session over the host's network.
struct HostSession(Connector);

impl GuestSession for HostSession {
    fn open(settings: Vec<Setting>) -> Result<Session, Error> {
        Connector::open(Box::new(HostCapabilities), &settings)
            .map(|connector| Session::new(HostSession(connector)))
    }

    fn test_connection(&self) -> Result<(), Error> {
        self.0.test_connection()
    }

    fn schema(&self) -> Result<Schema, Error> {
        self.0.schema()
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

/// The host's `net` and `log` imports.
struct HostCapabilities;

impl Host for HostCapabilities {
    fn connect(
        &self,
        host: &str,
        port: u16,
        security: Security,
    ) -> Result<Box<dyn Transport>, NetError> {
        net::connect(host, port, security).map(|connection| Box::new(connection) as _)
    }

    fn log(&self, level: Level, message: &str) {
        log::log(level, message);
    }
}

/// A connection of the host's `net` import is a transport as it is.
impl Transport for net::Connection {
    fn read(&mut self, max: u32) -> Result<Vec<u8>, NetError> {
        net::Connection::read(self, max)
    }

    fn write(&mut self, data: &[u8]) -> Result<(), NetError> {
        net::Connection::write(self, data)
    }

    fn start_tls(&mut self) -> Result<(), NetError> {
        net::Connection::start_tls(self)
    }
}

export!(Component);
