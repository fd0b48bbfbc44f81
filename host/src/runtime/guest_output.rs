//! Where a connector's stdout and stderr go: never to the host's own output (a guest
//! must not be able to forge host log lines or fill a terminal), but into a small tail
//! buffer that the host reads when a call traps, so that a panic message ends up in the
//! error the operator sees.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// The last bytes a guest wrote to stdout or stderr. Writes always succeed (a guest that
/// prints a lot must not fail because of it); older bytes are dropped.
#[derive(Debug, Clone, Default)]
pub struct GuestOutput {
    tail: Arc<Mutex<VecDeque<u8>>>,
}

/// How much output is kept: enough for a panic message and a backtrace line or two.
const TAIL_BYTES: usize = 2048;

impl GuestOutput {
    /// The kept output as text, trimmed; lossy for invalid UTF-8.
    pub fn tail(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let (a, b) = tail.as_slices();
        let mut bytes = Vec::with_capacity(a.len() + b.len());
        bytes.extend_from_slice(a);
        bytes.extend_from_slice(b);
        String::from_utf8_lossy(&bytes).trim().to_string()
    }

    /// Forgets what was written, so each call reports only its own output.
    pub fn clear(&self) {
        self.tail.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn push(&self, buf: &[u8]) {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let keep = &buf[buf.len().saturating_sub(TAIL_BYTES)..];
        let overflow = (tail.len() + keep.len()).saturating_sub(TAIL_BYTES);
        let drop = overflow.min(tail.len());
        tail.drain(..drop);
        tail.extend(keep);
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail() {
        let out = GuestOutput::default();
        out.push(b"hello ");
        out.push(b"world");
        assert_eq!(out.tail(), "hello world");
        out.push(&vec![b'x'; 3000]);
        out.push(b"END");
        let tail = out.tail();
        assert_eq!(tail.len(), TAIL_BYTES);
        assert!(tail.ends_with("xEND"));
        out.clear();
        assert_eq!(out.tail(), "");
    }
}
