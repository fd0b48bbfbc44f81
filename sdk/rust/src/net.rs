//! The host's `net` capability behind two traits, so connector logic takes a
//! `&dyn Network` and works on `Box<dyn Transport>` streams: in the component it is
//! [`HostNetwork`] (the host resolves names, checks the app's allow-list and does TLS
//! itself); in native tests it is a fake over plain TCP (`testing::TcpNetwork`).

use crate::bindings::ferry::connector::net::{self as host, Connection};
pub use crate::bindings::ferry::connector::net::{NetError, Security};
use crate::types::{Error, ErrorKind};

/// One open byte stream, one to one with the `net` capability's `connection`.
pub trait Transport {
    /// Up to `max` bytes, waiting for at least one; empty when the peer closed its side.
    fn read(&mut self, max: u32) -> Result<Vec<u8>, NetError>;

    /// Writes all of `data`.
    fn write(&mut self, data: &[u8]) -> Result<(), NetError>;

    /// Switches a `start-tls` stream to TLS, after the protocol's own request for it
    /// succeeded.
    fn start_tls(&mut self) -> Result<(), NetError>;
}

/// Opens streams.
pub trait Network {
    /// A stream to `host`:`port`, secured as asked; the host may refuse it.
    fn connect(
        &self,
        host: &str,
        port: u16,
        security: Security,
    ) -> Result<Box<dyn Transport>, NetError>;
}

/// The host's network, through the `net` import. Only usable inside the component.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostNetwork;

impl Network for HostNetwork {
    fn connect(
        &self,
        host: &str,
        port: u16,
        security: Security,
    ) -> Result<Box<dyn Transport>, NetError> {
        host::connect(host, port, security).map(|connection| Box::new(connection) as _)
    }
}

/// A connection of the `net` import is a transport as it is.
impl Transport for Connection {
    fn read(&mut self, max: u32) -> Result<Vec<u8>, NetError> {
        Connection::read(self, max)
    }

    fn write(&mut self, data: &[u8]) -> Result<(), NetError> {
        Connection::write(self, data)
    }

    fn start_tls(&mut self) -> Result<(), NetError> {
        Connection::start_tls(self)
    }
}

impl Error {
    /// A network failure as a contract error: `context` says what the connector was
    /// doing. A refusal by the app's allow-list needs the operator (`permission-denied`);
    /// everything else may pass, so the host retries (`unavailable`).
    pub fn from_net(context: &str, failure: &NetError) -> Self {
        let (kind, reason) = match failure {
            NetError::Denied(why) => (
                ErrorKind::PermissionDenied,
                format!("the app's network allow-list refused it: {why}"),
            ),
            NetError::Resolve(why) => (ErrorKind::Unavailable, format!("name not resolved: {why}")),
            NetError::Connect(why) => (ErrorKind::Unavailable, format!("cannot connect: {why}")),
            NetError::Tls(why) => (ErrorKind::Unavailable, format!("TLS failed: {why}")),
            NetError::Timeout => (ErrorKind::Unavailable, "timed out".to_owned()),
            NetError::Closed => (
                ErrorKind::Unavailable,
                "the server closed the connection".to_owned(),
            ),
            NetError::Limit => (
                ErrorKind::Unavailable,
                "too many open connections for this app".to_owned(),
            ),
            NetError::Other(why) => (ErrorKind::Unavailable, why.clone()),
        };
        Self::new(kind, format!("{context}: {reason}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_failures_are_retryable_except_an_allow_list_refusal() {
        let denied = Error::from_net(
            "connecting",
            &NetError::Denied("ldap.example.org:636".into()),
        );
        assert_eq!(denied.kind, ErrorKind::PermissionDenied);
        assert_eq!(
            denied.message,
            "connecting: the app's network allow-list refused it: ldap.example.org:636"
        );
        for failure in [
            NetError::Resolve("x".into()),
            NetError::Connect("x".into()),
            NetError::Tls("unknown CA".into()),
            NetError::Timeout,
            NetError::Closed,
            NetError::Limit,
            NetError::Other("x".into()),
        ] {
            assert_eq!(
                Error::from_net("c", &failure).kind,
                ErrorKind::Unavailable,
                "{failure:?}"
            );
        }
    }
}
