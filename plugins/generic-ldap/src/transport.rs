//! The network as the connector's logic sees it. In the component it is the host's `net`
//! import (which resolves, checks the allow-list and does TLS); in native tests it is a
//! plain `std::net::TcpStream` to a real slapd. Keeping the LDAP logic behind these two
//! traits is what lets `cargo test` run it end to end without a host.

use crate::ferry::connector::log::Level;
use crate::ferry::connector::net::{NetError, Security};

/// One open byte stream to the directory, one to one with the `net` capability's
/// `connection` resource.
pub trait Transport {
    /// Up to `max` bytes, waiting for at least one; empty when the peer closed its side.
    fn read(&mut self, max: u32) -> Result<Vec<u8>, NetError>;

    /// Writes all of `data`.
    fn write(&mut self, data: &[u8]) -> Result<(), NetError>;

    /// Switches the stream to TLS after the server accepted the StartTLS request.
    fn start_tls(&mut self) -> Result<(), NetError>;
}

/// The host capabilities the connector uses: opening streams and logging.
pub trait Host {
    /// Opens a stream to `host`:`port`, secured as asked; the host may refuse it.
    fn connect(
        &self,
        host: &str,
        port: u16,
        security: Security,
    ) -> Result<Box<dyn Transport>, NetError>;

    /// A line for the host's log. Never called with secrets.
    fn log(&self, level: Level, message: &str);
}
