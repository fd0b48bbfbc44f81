//! Network escapes beyond `net.rs` (names off the list, names resolving to loopback,
//! `::ffff:127.0.0.1`, the connection cap with one extra connection): a range entry
//! that covers special addresses, a port scan, ten thousand connects, and connections
//! that are never read or never drained.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ferry::config::NetworkConfig;
use ferry::runtime::instance::FailureKind;
use ferry::runtime::limits::Limits;
use ferry::runtime::net::NetPolicy;
use ferry::runtime::pool::SessionPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{BOUND, Healthy, answer, assert_failed, failure, misbehave, runtime};

/// A policy from a `[network]` table granting `allow`, with `extra` keys.
fn policy(allow: &[String], extra: &str) -> NetPolicy {
    let allow: Vec<String> = allow.iter().map(|a| format!("{a:?}")).collect();
    let table = format!("allow = [{}]\n{extra}", allow.join(", "));
    let config: NetworkConfig = toml::from_str(&table).unwrap();
    NetPolicy::from_config(&config, Path::new(".")).unwrap()
}

/// A pool of one misbehave instance for `app` under `network`.
async fn pool(runtime: &ferry::runtime::Runtime, app: &str, network: NetPolicy) -> SessionPool {
    let limits = Limits {
        instances: 1,
        ..Limits::default()
    };
    misbehave(runtime, app, limits, "ok", Some(network)).await
}

/// What a test server saw: connections accepted, open now, open at most at once, and
/// whether a connection it fed was closed by the other side.
#[derive(Default)]
struct Seen {
    accepted: AtomicUsize,
    open: AtomicUsize,
    most_open: AtomicUsize,
    fed_closed: AtomicBool,
}

/// How a test server treats each connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Echo bytes back.
    Echo,
    /// Hold the connection without reading or writing until the client closes it.
    Silent,
    /// Write without pause, never reading, until writing fails.
    Feed,
}

/// A server on a free loopback port; its port and what it sees.
async fn server(behaviour: Behaviour) -> (u16, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let watcher = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            watcher.accepted.fetch_add(1, Ordering::SeqCst);
            let open = watcher.open.fetch_add(1, Ordering::SeqCst) + 1;
            watcher.most_open.fetch_max(open, Ordering::SeqCst);
            let seen = watcher.clone();
            tokio::spawn(async move {
                serve(behaviour, tcp, &seen).await;
                seen.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (port, seen)
}

async fn serve(behaviour: Behaviour, mut tcp: TcpStream, seen: &Seen) {
    match behaviour {
        Behaviour::Echo => {
            let (mut reader, mut writer) = tcp.split();
            let _ = tokio::io::copy(&mut reader, &mut writer).await;
        }
        // A silent server learns of the close only when it reads; it reads nothing
        // until then, so nothing the client writes is drained.
        Behaviour::Silent => while tcp.read(&mut [0; 1]).await.is_ok_and(|n| n > 0) {},
        Behaviour::Feed => {
            let chunk = vec![b'f'; 64 * 1024];
            while tcp.write_all(&chunk).await.is_ok() {}
            seen.fed_closed.store(true, Ordering::SeqCst);
        }
    }
}

/// Waits (bounded) until `condition` holds.
async fn until(what: &str, condition: impl Fn() -> bool) {
    let wait = async {
        while !condition() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(BOUND, wait)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting: {what}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_range_covering_special_addresses_does_not_unlock_them() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let healthy = Healthy::start(&runtime).await;
    let (port, seen) = server(Behaviour::Echo).await;
    let everything = [
        format!("0.0.0.0/0:{port}"),
        format!("[::/0]:{port}"),
        format!("100.64.0.0/10:{port}"),
        format!("169.254.0.0/16:{port}"),
        format!("localhost:{port}"),
    ];
    let open = pool(&runtime, "cidr-trick", policy(&everything, "")).await;
    for (host, kind) in [
        ("127.0.0.1", "a loopback address"),
        ("localhost", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("0.0.0.0", "an unspecified (this-host) address"),
    ] {
        let reply = answer(&open, &format!("net|{host}|{port}|plain|x"), "reply").await;
        assert!(
            reply.starts_with("NetError::Denied(") && reply.contains(kind),
            "{host} must stay closed: {reply}"
        );
    }
    assert_eq!(seen.accepted.load(Ordering::SeqCst), 0, "nothing connected");

    // A range within the special block is the operator naming it: it unlocks.
    let loopback = pool(
        &runtime,
        "cidr-loopback",
        policy(&[format!("127.0.0.0/8:{port}")], ""),
    )
    .await;
    let reply = answer(
        &loopback,
        &format!("net|127.0.0.1|{port}|plain|in"),
        "reply",
    )
    .await;
    assert_eq!(reply, "in");
    healthy.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_scan_is_denied_port_by_port_and_reaches_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let healthy = Healthy::start(&runtime).await;
    let (listening, seen) = server(Behaviour::Echo).await;
    // The list grants one port, outside the scanned range; the scan covers a real
    // listener.
    let from = listening.saturating_sub(500).clamp(2, u16::MAX - 1000);
    let to = from + 1000;
    let scanner = pool(&runtime, "scanner", policy(&["127.0.0.1:1".into()], "")).await;
    for host in ["127.0.0.1", "localhost"] {
        let reply = answer(&scanner, &format!("scan|{host}|{from}|{to}"), "reply").await;
        assert_eq!(reply, format!("Denied={}", to - from + 1), "{host}");
    }
    assert_eq!(
        seen.accepted.load(Ordering::SeqCst),
        0,
        "no probe connected"
    );
    healthy.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_connects_stop_at_the_cap_and_the_slots_come_back() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let healthy = Healthy::start(&runtime).await;
    let (port, seen) = server(Behaviour::Silent).await;
    let flooder = pool(
        &runtime,
        "flooder",
        policy(&[format!("127.0.0.1:{port}")], "max-connections = 16"),
    )
    .await;
    // The guest drops its connections when its call ends, so the second round gets all
    // 16 slots again.
    for round in 1..=2 {
        let reply = answer(&flooder, &format!("flood|127.0.0.1|{port}|10000"), "reply").await;
        assert_eq!(reply, "connected=16 Limit=9984", "round {round}");
    }
    until("the server to see 32 connections, all closed", || {
        seen.accepted.load(Ordering::SeqCst) == 32 && seen.open.load(Ordering::SeqCst) == 0
    })
    .await;
    assert!(seen.most_open.load(Ordering::SeqCst) <= 16, "the cap held");
    healthy.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_never_read_or_never_drained_are_cut_and_freed() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let healthy = Healthy::start(&runtime).await;
    let (silent, silent_seen) = server(Behaviour::Silent).await;
    let (feeder, feeder_seen) = server(Behaviour::Feed).await;
    let allow = [format!("127.0.0.1:{silent}"), format!("127.0.0.1:{feeder}")];
    let network = policy(&allow, "io-timeout-seconds = 1\nmax-connections = 1");
    let pool = pool(&runtime, "stalled", network).await;

    // A peer that never answers: the read is cut by the I/O timeout.
    let reply = answer(
        &pool,
        &format!("net|127.0.0.1|{silent}|plain|hello"),
        "reply",
    )
    .await;
    assert_eq!(reply, "NetError::Timeout");
    // A peer that never reads: writes stop at the socket buffers and the timeout cuts
    // them, rather than the host buffering what the guest pours.
    let reply = answer(&pool, &format!("pour|127.0.0.1|{silent}|1024"), "reply").await;
    assert!(
        reply.starts_with("wrote ") && reply.ends_with(" MiB, then NetError::Timeout"),
        "{reply}"
    );
    until("the silent server's connections to close", || {
        silent_seen.open.load(Ordering::SeqCst) == 0
    })
    .await;

    // A connection the guest keeps after its call and never reads, while the peer
    // writes without pause: the host does not read for it, so nothing piles up in the
    // host; the connection holds the app's only slot for as long as the instance lives.
    let reply = answer(&pool, &format!("hold|127.0.0.1|{feeder}"), "reply").await;
    assert_eq!(reply, "holding 1");
    let reply = answer(&pool, &format!("net|127.0.0.1|{silent}|plain|x"), "reply").await;
    assert_eq!(reply, "NetError::Limit");
    assert!(!feeder_seen.fed_closed.load(Ordering::SeqCst));
    // When the instance goes, its connection goes with it, and the slot comes back.
    let trapped = failure(&pool, "panic").await;
    assert_failed(&trapped, FailureKind::Trap, "asked to panic");
    until("the held connection to close", || {
        feeder_seen.fed_closed.load(Ordering::SeqCst)
    })
    .await;
    let reply = answer(&pool, &format!("net|127.0.0.1|{silent}|plain|x"), "reply").await;
    assert_eq!(reply, "NetError::Timeout", "the slot came back");
    healthy.finish().await;
}
