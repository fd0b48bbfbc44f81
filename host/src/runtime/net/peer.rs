//! Who is connecting where, for the log: every refusal and failure of the `net`
//! capability is logged with the app, the name the connector asked for, the port, the
//! address (once there is one) and the reason, so the operator can see what a connector
//! tried and why it could not.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::runtime::bindings::net::NetError;
use crate::runtime::state::{printable, truncate};

/// The longest host name kept for the log; a connector's longer text is cut.
const MAX_SHOWN_HOST: usize = 255;

/// The app and the destination a connector asked for.
#[derive(Debug, Clone)]
pub struct Peer {
    app: Arc<str>,
    host: String,
    port: u16,
}

impl Peer {
    /// A connect by `app` to `host`:`port`. The host is kept printable and short, since
    /// it is the connector's text and goes into the host's log.
    pub fn new(app: Arc<str>, host: &str, port: u16) -> Self {
        Self {
            app,
            host: printable(truncate(host, MAX_SHOWN_HOST)).into_owned(),
            port,
        }
    }

    /// Logs `error` as a refusal or failure of this connect (at `address`, if it got
    /// that far) and returns it, for the connector.
    pub fn fail(&self, address: Option<SocketAddr>, error: NetError) -> NetError {
        let address = address.map_or_else(|| "-".to_string(), |a| a.to_string());
        tracing::warn!(
            app = &*self.app,
            host = %self.host,
            port = self.port,
            address = %address,
            reason = %reason(&error),
            "network connection refused or failed"
        );
        error
    }
}

/// The error in words, for the log.
fn reason(error: &NetError) -> String {
    match error {
        NetError::Denied(m) => format!("denied: {m}"),
        NetError::Resolve(m) => format!("cannot resolve: {m}"),
        NetError::Connect(m) => format!("cannot connect: {m}"),
        NetError::Tls(m) => format!("TLS failed: {m}"),
        NetError::Timeout => "timed out".into(),
        NetError::Closed => "closed by the peer".into(),
        NetError::Limit => "too many open connections".into(),
        NetError::Other(m) => m.clone(),
    }
}
