//! The `net` capability over plain TCP.

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::rc::Rc;
use std::time::Duration;

use crate::net::{NetError, Network, Security, Transport};

/// How long a read waits before it fails with `timeout`, so a test against a server that
/// stopped answering fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The `net` capability for native tests, over plain TCP to a server the test started.
/// It does no TLS (the host does TLS, and the host's tests cover it): `tls` and
/// `start-tls` fail with a `tls` error. Clones share their state, so the test keeps one
/// clone to cut connections or make a write fail while the connector holds another.
#[derive(Debug, Clone, Default)]
pub struct TcpNetwork {
    state: Rc<RefCell<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// A handle on every stream opened, to cut it.
    streams: Vec<TcpStream>,
    /// How many streams were opened in all.
    opened: usize,
    /// Fail the write this many writes from now (0: the next one).
    fail_write_in: Option<usize>,
}

impl TcpNetwork {
    /// A network that has opened nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many connections the connector opened.
    pub fn opened(&self) -> usize {
        self.state.borrow().opened
    }

    /// Cuts every connection opened so far, as a server restart or an idle timeout would.
    pub fn cut_connections(&self) {
        for stream in self.state.borrow_mut().streams.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Makes the write `writes` writes from now (0: the next one) fail with `closed`,
    /// after cutting its connection, as a connection lost in flight would.
    pub fn fail_write_in(&self, writes: usize) {
        self.state.borrow_mut().fail_write_in = Some(writes);
    }
}

impl Network for TcpNetwork {
    fn connect(
        &self,
        host: &str,
        port: u16,
        security: Security,
    ) -> Result<Box<dyn Transport>, NetError> {
        if security != Security::Plain {
            return Err(plain_only());
        }
        let stream = TcpStream::connect((host, port))
            .map_err(|failure| NetError::Connect(failure.to_string()))?;
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|failure| NetError::Other(failure.to_string()))?;
        let handle = stream
            .try_clone()
            .map_err(|failure| NetError::Other(failure.to_string()))?;
        let mut state = self.state.borrow_mut();
        state.streams.push(handle);
        state.opened += 1;
        Ok(Box::new(TcpTransport {
            stream,
            state: Rc::clone(&self.state),
        }))
    }
}

/// One stream of a [`TcpNetwork`].
struct TcpTransport {
    stream: TcpStream,
    state: Rc<RefCell<State>>,
}

impl Transport for TcpTransport {
    fn read(&mut self, max: u32) -> Result<Vec<u8>, NetError> {
        let mut buffer = vec![0; max as usize];
        let read = self
            .stream
            .read(&mut buffer)
            .map_err(|failure| match failure.kind() {
                ErrorKind::WouldBlock | ErrorKind::TimedOut => NetError::Timeout,
                _ => NetError::Other(failure.to_string()),
            })?;
        buffer.truncate(read);
        Ok(buffer)
    }

    fn write(&mut self, data: &[u8]) -> Result<(), NetError> {
        let mut state = self.state.borrow_mut();
        match state.fail_write_in {
            Some(0) => {
                state.fail_write_in = None;
                let _ = self.stream.shutdown(Shutdown::Both);
                return Err(NetError::Closed);
            }
            Some(left) => state.fail_write_in = Some(left - 1),
            None => {}
        }
        self.stream
            .write_all(data)
            .map_err(|failure| NetError::Other(failure.to_string()))
    }

    fn start_tls(&mut self) -> Result<(), NetError> {
        Err(plain_only())
    }
}

fn plain_only() -> NetError {
    NetError::Tls("the native test network speaks plain TCP".into())
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    /// A server that echoes one line back per connection.
    fn echo_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut buffer = [0; 64];
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 || stream.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                }
            }
        });
        port
    }

    #[test]
    fn talks_plain_tcp_and_fails_on_purpose() {
        let port = echo_server();
        let network = TcpNetwork::new();
        let given: Box<dyn Network> = Box::new(network.clone());
        let mut stream = given.connect("127.0.0.1", port, Security::Plain).unwrap();
        stream.write(b"ping").unwrap();
        assert_eq!(stream.read(64).unwrap(), b"ping");
        assert_eq!(network.opened(), 1);

        network.fail_write_in(1);
        stream.write(b"one").unwrap();
        assert_eq!(stream.write(b"two"), Err(NetError::Closed));

        let mut second = given.connect("127.0.0.1", port, Security::Plain).unwrap();
        network.cut_connections();
        assert!(
            second.write(b"x").is_err(),
            "a cut connection cannot be written"
        );
        assert_eq!(network.opened(), 2);

        assert!(matches!(
            given.connect("127.0.0.1", port, Security::Tls).err(),
            Some(NetError::Tls(_))
        ));
        assert!(matches!(stream.start_tls().unwrap_err(), NetError::Tls(_)));
    }
}
