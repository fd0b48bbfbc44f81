//! An open connection as a connector holds it: plain or TLS bytes under the app's I/O
//! timeout, the StartTLS upgrade, and the app's connection slot, released when the
//! connection is dropped — by the connector, or with the whole store after a trap.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, timeout};
use tokio_rustls::client::TlsStream;

use super::allow_list::Host;
use super::peer::Peer;
use super::policy::NetPolicy;
use super::tls;
use crate::runtime::bindings::net::{NetError, Security};

/// The most bytes one `read` returns: enough for any protocol message header and a good
/// share of a search result, small enough that a connector's buffer stays modest.
const MAX_READ: usize = 64 * 1024;

/// Where a connection leads: for the certificate check and the log.
pub struct Endpoint {
    /// The app and the destination as the connector asked for it.
    pub peer: Peer,
    /// The host the certificate must be valid for.
    pub host: Host,
    /// The address connected to.
    pub address: SocketAddr,
}

impl Endpoint {
    /// Logs `error` as a failure at this endpoint and returns it.
    fn fail(&self, error: NetError) -> NetError {
        self.peer.fail(Some(self.address), error)
    }
}

/// The host side of a guest's `connection` resource.
pub struct NetConnection {
    endpoint: Endpoint,
    policy: Arc<NetPolicy>,
    state: State,
    /// Held, never read: dropping the connection gives the slot back.
    _slot: OwnedSemaphorePermit,
}

/// Where the bytes go.
enum State {
    /// Plain TCP; `upgradable` while a `start-tls` connection has not been upgraded.
    Plain { tcp: TcpStream, upgradable: bool },
    /// TLS, from the first byte or after `start-tls`.
    Tls(Box<TlsStream<TcpStream>>),
    /// A failed upgrade left nothing usable.
    Lost,
}

/// What reads and writes need of either kind of stream.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl NetConnection {
    /// A connection on `tcp` to `address`, with TLS done now for `Security::Tls`, by
    /// `deadline`, or later on request for `Security::StartTls`.
    pub(super) async fn establish(
        endpoint: Endpoint,
        tcp: TcpStream,
        security: Security,
        policy: Arc<NetPolicy>,
        slot: OwnedSemaphorePermit,
        deadline: Instant,
    ) -> Result<Self, NetError> {
        // Protocol messages are small and answered one by one: don't wait to fill a
        // segment. A failure here only costs latency.
        tcp.set_nodelay(true).ok();
        let state = match security {
            Security::Tls => State::Tls(Box::new(
                tls::handshake(policy.tls(), &endpoint.host, tcp, deadline)
                    .await
                    .map_err(|e| endpoint.fail(e))?,
            )),
            Security::Plain | Security::StartTls => State::Plain {
                tcp,
                upgradable: matches!(security, Security::StartTls),
            },
        };
        Ok(Self {
            endpoint,
            policy,
            state,
            _slot: slot,
        })
    }

    /// Up to `max` bytes (at most 64 KiB), waiting for at least one; empty at the end
    /// of the stream.
    pub(super) async fn read(&mut self, max: u32) -> Result<Vec<u8>, NetError> {
        if max == 0 {
            return Err(NetError::Other(
                "read needs max of at least 1 (an empty result means end of stream)".into(),
            ));
        }
        let limit = self.policy.io_timeout();
        let mut buffer = vec![0; MAX_READ.min(max as usize)];
        let n = within(limit, self.io()?.read(&mut buffer)).await?;
        buffer.truncate(n);
        Ok(buffer)
    }

    /// Writes all of `data` and flushes it.
    pub(super) async fn write(&mut self, data: &[u8]) -> Result<(), NetError> {
        let limit = self.policy.io_timeout();
        let io = self.io()?;
        within(limit, async {
            io.write_all(data).await?;
            io.flush().await
        })
        .await
    }

    /// Upgrades a `start-tls` connection, once, checking the certificate as `tls` would.
    pub(super) async fn start_tls(&mut self) -> Result<(), NetError> {
        let tcp = match std::mem::replace(&mut self.state, State::Lost) {
            State::Plain {
                tcp,
                upgradable: true,
            } => tcp,
            other => {
                self.state = other;
                return Err(NetError::Other(
                    "start-tls needs a connection opened with security start-tls and not yet \
                     upgraded"
                        .into(),
                ));
            }
        };
        let deadline = Instant::now() + self.policy.connect_timeout();
        let stream = tls::handshake(self.policy.tls(), &self.endpoint.host, tcp, deadline)
            .await
            .map_err(|e| self.endpoint.fail(e))?;
        self.state = State::Tls(Box::new(stream));
        Ok(())
    }

    fn io(&mut self) -> Result<&mut dyn Io, NetError> {
        match &mut self.state {
            State::Plain { tcp, .. } => Ok(tcp),
            State::Tls(tls) => Ok(tls.as_mut()),
            State::Lost => Err(NetError::Closed),
        }
    }
}

/// `operation` under the I/O timeout, its error in the contract's terms.
async fn within<T>(
    limit: Duration,
    operation: impl Future<Output = io::Result<T>>,
) -> Result<T, NetError> {
    match timeout(limit, operation).await {
        Ok(result) => result.map_err(io_error),
        Err(_) => Err(NetError::Timeout),
    }
}

fn io_error(error: io::Error) -> NetError {
    use io::ErrorKind::*;
    match error.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
            NetError::Closed
        }
        _ => NetError::Other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tokio::net::TcpListener;

    use super::*;
    use crate::config::NetworkConfig;

    /// A plain connection to a local server that has written `hello` and stays open
    /// until the returned socket is dropped.
    async fn plain_connection(security: Security) -> (NetConnection, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let tcp = TcpStream::connect(address).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        server.write_all(b"hello").await.unwrap();
        let config: NetworkConfig =
            toml::from_str("system-roots = false\ninsecure-skip-certificate-verification = true")
                .unwrap();
        let policy = Arc::new(NetPolicy::from_config(&config, Path::new(".")).unwrap());
        let endpoint = Endpoint {
            peer: Peer::new("test".into(), "127.0.0.1", address.port()),
            host: Host::Ip(address.ip()),
            address,
        };
        let slot = policy.take_slot().unwrap();
        let deadline = Instant::now() + policy.connect_timeout();
        let connection = NetConnection::establish(endpoint, tcp, security, policy, slot, deadline)
            .await
            .unwrap();
        (connection, server)
    }

    #[tokio::test]
    async fn reads_are_bounded_and_end_empty() {
        let (mut connection, server) = plain_connection(Security::Plain).await;
        assert!(matches!(connection.read(0).await, Err(NetError::Other(_))));
        assert_eq!(connection.read(3).await.unwrap(), b"hel");
        assert_eq!(connection.read(100).await.unwrap(), b"lo");
        drop(server);
        assert_eq!(connection.read(100).await.unwrap(), b"", "end of stream");
    }

    #[tokio::test]
    async fn start_tls_is_refused_on_a_plain_connection_which_stays_usable() {
        let (mut connection, mut server) = plain_connection(Security::Plain).await;
        match connection.start_tls().await {
            Err(NetError::Other(m)) => assert!(m.contains("security start-tls"), "{m}"),
            other => panic!("{other:?}"),
        }
        connection.write(b"still plain").await.unwrap();
        let mut echoed = [0; 11];
        server.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"still plain");
    }

    #[tokio::test]
    async fn a_failed_upgrade_loses_the_connection_and_cannot_be_retried() {
        let (mut connection, _server) = plain_connection(Security::StartTls).await;
        // The server's "hello" is no TLS record.
        assert!(matches!(
            connection.start_tls().await,
            Err(NetError::Tls(_))
        ));
        assert!(matches!(
            connection.start_tls().await,
            Err(NetError::Other(_))
        ));
        assert_eq!(connection.read(10).await, Err(NetError::Closed));
    }
}
