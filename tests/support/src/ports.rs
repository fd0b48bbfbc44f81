//! Free loopback ports for the servers tests start, chosen where no outgoing connection
//! can take them.
//!
//! Binding port 0 and releasing it is not enough: the kernel hands out the same
//! ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 by default) to
//! every outgoing connection, so a test's own client or database connection could take the
//! port between the check and the server binding it ("Address already in use"). Ports
//! below that range are never given out implicitly; here each process walks them from its
//! own starting point, so test processes running side by side rarely meet either.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port handed out: above the well-known and most registered service ports.
const LOWEST: u16 = 10_000;

/// Where the ephemeral range starts when `/proc` does not say (the Linux default).
const DEFAULT_EPHEMERAL_START: u16 = 32_768;

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts.
///
/// The port is released before it is returned, so another test process may still take it
/// first (rarely: see the module documentation); servers started here retry with a new
/// port when theirs is taken.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let end = ephemeral_start();
    if end <= LOWEST + 100 {
        return any_free_port();
    }
    let span = u32::from(end - LOWEST);
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = LOWEST + u16::try_from(offset).expect("offset is below a u16 span");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    any_free_port()
}

/// The first port of the kernel's ephemeral range.
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(DEFAULT_EPHEMERAL_START)
}

/// A port the kernel picks, for machines whose ephemeral range leaves nothing below it.
fn any_free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("cannot bind a free port on 127.0.0.1")
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_below_the_ephemeral_range_distinct_and_bindable() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let end = ephemeral_start();
        for port in &ports {
            assert!(
                (LOWEST..end).contains(port),
                "{port} is outside {LOWEST}..{end}"
            );
            TcpListener::bind(("127.0.0.1", *port)).expect("the port is free");
        }
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ports.len(), "a port was handed out twice");
    }

    #[test]
    fn a_taken_port_is_skipped() {
        let first = free_port();
        let _held = TcpListener::bind(("127.0.0.1", first + 1)).ok();
        let second = free_port();
        assert_ne!(second, first + 1);
    }
}
