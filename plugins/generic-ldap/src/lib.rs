//! Ferry's generic LDAP connector. This file holds only the glue between the SDK's
//! `Connector` trait and the connector's modules; the logic reaches the host's `net` and
//! `log` imports through the SDK's `Network` and `Log` traits, so it also runs natively
//! over TCP against a real slapd in tests.

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
mod entry_ber;
mod errors;
mod escape;
mod export;
mod filter;
mod import;
mod references;
mod schema;
mod session;
mod subschema;
mod template;
mod values;

#[cfg(test)]
mod tests;

use ferry_connector::log::HostLog;
use ferry_connector::net::HostNetwork;
use ferry_connector::types::ConnectorInfo;
use ferry_connector::{Connector, Error, Settings};

use session::LdapSession;

/// The component's export.
struct GenericLdap;

impl Connector for GenericLdap {
    type Session = LdapSession;

    fn describe() -> ConnectorInfo {
        describe::connector_info()
    }

    fn open(settings: &Settings) -> Result<LdapSession, Error> {
        LdapSession::open(Box::new(HostNetwork), Box::new(HostLog), settings)
    }
}

ferry_connector::export!(GenericLdap);
