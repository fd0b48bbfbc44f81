//! The `net` capability end to end: a real component (`tests/fixtures/misbehave`, its
//! `net…|HOST|PORT|SECURITY|PAYLOAD` modes) runs through a session pool and talks to
//! servers this test starts on loopback — plain echo, TLS echo with a certificate from a
//! CA made here, and a STARTTLS-style echo — under a `NetPolicy` built from a
//! `[network]` table, as `ferry serve` builds it.
//!
//! The components are built by `cargo xtask test` into `target/plugins` (or the folder
//! in `FERRY_PLUGIN_DIR`).

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use ferry::config::{LoadedConfig, NetworkConfig};
use ferry::runtime::Runtime;
use ferry::runtime::bindings::types::Value;
use ferry::runtime::engine::EngineSizing;
use ferry::runtime::limits::Limits;
use ferry::runtime::net::NetPolicy;
use ferry::runtime::pool::{CallError, SessionPool};
use ferry::runtime::state::Grants;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

// ---- log capture ------------------------------------------------------------------

/// Everything the process logged. Tests run in parallel, so each uses its own app name
/// and looks only at its own lines.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_writer(|| Capture)
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .init();
    });
}

/// The warnings logged for `app`.
fn warnings(app: &str) -> Vec<String> {
    let logs = LOGS.lock().unwrap();
    String::from_utf8_lossy(&logs)
        .lines()
        .filter(|l| l.contains("WARN") && l.contains(&format!("app=\"{app}\"")))
        .map(str::to_string)
        .collect()
}

// ---- certificates -----------------------------------------------------------------

/// A CA made for one test, written to `ca.pem` in a folder the policy reads from.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    /// A CA named `name`: two CAs with one name would look like the same issuer with a
    /// bad signature rather than an unknown one.
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        Self {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn write_pem(&self, dir: &Path) {
        std::fs::write(dir.join("ca.pem"), self.issuer.pem()).unwrap();
    }

    /// A TLS server configuration with a certificate for `names`, signed by this CA.
    fn server(&self, names: &[&str]) -> TlsAcceptor {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

// ---- servers ----------------------------------------------------------------------

/// How a test server treats each connection.
#[derive(Clone)]
enum Serve {
    /// Echo bytes back as they come.
    Plain,
    /// TLS from the first byte, then echo.
    Tls(TlsAcceptor),
    /// Read `STARTTLS\n`, answer `OK\n`, then TLS, then echo.
    StartTls(TlsAcceptor),
}

/// A server on a free loopback port; its port.
async fn server(serve: Serve) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let serve = serve.clone();
            tokio::spawn(async move {
                // A client that gives up mid-handshake is part of some tests.
                let _ = handle(serve, tcp).await;
            });
        }
    });
    port
}

async fn handle(serve: Serve, mut tcp: TcpStream) -> std::io::Result<()> {
    match serve {
        Serve::Plain => echo(tcp).await,
        Serve::Tls(acceptor) => echo(acceptor.accept(tcp).await?).await,
        Serve::StartTls(acceptor) => {
            let mut request = Vec::new();
            while !request.ends_with(b"\n") {
                request.push(tcp.read_u8().await?);
            }
            if request != b"STARTTLS\n" {
                return tcp.write_all(b"expected STARTTLS\n").await;
            }
            tcp.write_all(b"OK\n").await?;
            echo(acceptor.accept(tcp).await?).await
        }
    }
}

async fn echo(stream: impl AsyncRead + AsyncWrite) -> std::io::Result<()> {
    let (mut reader, mut writer) = tokio::io::split(stream);
    tokio::io::copy(&mut reader, &mut writer).await?;
    writer.shutdown().await
}

// ---- the component ----------------------------------------------------------------

/// A pool running the fixture for `app` with `network`, or with no network grant.
async fn pool(scratch: &Path, app: &str, network: Option<NetPolicy>) -> SessionPool {
    let runtime = Runtime::new(
        EngineSizing { total_instances: 8 },
        scratch.join("compiled"),
    )
    .unwrap();
    let plugin = runtime
        .load_plugin(&crate::common::component("fixture-misbehave.wasm"))
        .await
        .unwrap();
    let grants = Grants {
        app: Arc::from(app),
        plugin: Arc::from("misbehave"),
        limits: Limits {
            instances: 1,
            ..Limits::default()
        },
        database: None,
        network: network.map(Arc::new),
        files: None,
    };
    SessionPool::new(plugin, grants, vec![])
}

/// A `[network]` table with `allow`, trusting only `ca.pem` in `dir` unless `extra`
/// says otherwise, turned into a policy as `ferry serve` does.
fn policy(dir: &Path, allow: &[String], extra: &str) -> NetPolicy {
    let allow: Vec<String> = allow.iter().map(|a| format!("{a:?}")).collect();
    let table = format!(
        "allow = [{}]\nca-file = \"ca.pem\"\nsystem-roots = false\n{extra}",
        allow.join(", ")
    );
    let config: NetworkConfig = toml::from_str(&table).unwrap();
    NetPolicy::from_config(&config, dir).unwrap()
}

/// The fixture's `reply` for the request `name`: the line read back, or the error.
async fn reply(pool: &SessionPool, name: &str) -> String {
    let results = pool
        .export(vec![crate::common::add_thing(name)])
        .await
        .unwrap();
    let object = results.into_iter().next().unwrap().unwrap().unwrap();
    let reply = object.attributes.iter().find(|a| a.name == "reply");
    match reply.map(|a| &a.values[..]) {
        Some([Value::String(s)]) => s.clone(),
        other => panic!("no reply for {name}: {other:?}"),
    }
}

/// A scratch folder holding `ca.pem` for `ca`.
fn scratch_with(ca: &Ca) -> tempfile::TempDir {
    let scratch = tempfile::tempdir().unwrap();
    ca.write_pem(scratch.path());
    scratch
}

// ---- tests ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn plain_tls_and_starttls_round_trips() {
    let ca = Ca::new("test CA");
    let scratch = scratch_with(&ca);
    let plain = server(Serve::Plain).await;
    let tls = server(Serve::Tls(ca.server(&["localhost", "127.0.0.1"]))).await;
    let starttls = server(Serve::StartTls(ca.server(&["localhost"]))).await;
    let allow: Vec<String> = [plain, tls, starttls]
        .iter()
        .flat_map(|p| [format!("localhost:{p}"), format!("127.0.0.1:{p}")])
        .collect();
    let pool = pool(
        scratch.path(),
        "round-trips",
        Some(policy(scratch.path(), &allow, "")),
    )
    .await;

    assert_eq!(
        reply(&pool, &format!("net|127.0.0.1|{plain}|plain|hello")).await,
        "hello"
    );
    assert_eq!(
        reply(&pool, &format!("net|LOCALHOST.|{plain}|plain|by name")).await,
        "by name"
    );
    assert_eq!(
        reply(&pool, &format!("net|localhost|{tls}|tls|secret")).await,
        "secret"
    );
    assert_eq!(
        reply(&pool, &format!("net|127.0.0.1|{tls}|tls|by address")).await,
        "by address",
        "the certificate is checked against the IP address given"
    );
    assert_eq!(
        reply(
            &pool,
            &format!("net|localhost|{starttls}|starttls|upgraded")
        )
        .await,
        "upgraded",
        "the server answers only after its TLS handshake"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_are_checked_unless_the_operator_turns_it_off() {
    capture_logs();
    let trusted = Ca::new("trusted CA");
    let scratch = scratch_with(&trusted);
    let unknown_ca = server(Serve::Tls(Ca::new("unknown CA").server(&["localhost"]))).await;
    let wrong_name = server(Serve::Tls(trusted.server(&["ldap.example.org"]))).await;
    let starttls_unknown = server(Serve::StartTls(
        Ca::new("unknown CA").server(&["localhost"]),
    ))
    .await;
    let allow: Vec<String> = [unknown_ca, wrong_name, starttls_unknown]
        .iter()
        .flat_map(|p| [format!("localhost:{p}"), format!("127.0.0.1:{p}")])
        .collect();
    let checked = pool(
        scratch.path(),
        "certificates",
        Some(policy(scratch.path(), &allow, "")),
    )
    .await;

    let r = reply(&checked, &format!("net|127.0.0.1|{unknown_ca}|tls|x")).await;
    assert!(
        r.starts_with("NetError::Tls(") && r.contains("UnknownIssuer"),
        "{r}"
    );
    let r = reply(&checked, &format!("net|localhost|{wrong_name}|tls|x")).await;
    assert!(
        r.starts_with("NetError::Tls(") && r.contains("not valid for name \\\"localhost\\\""),
        "{r}"
    );
    let r = reply(
        &checked,
        &format!("net|127.0.0.1|{starttls_unknown}|starttls|x"),
    )
    .await;
    assert!(
        r.starts_with("NetError::Tls(") && r.contains("UnknownIssuer"),
        "{r}"
    );
    let logged = warnings("certificates");
    assert!(
        logged
            .iter()
            .any(|l| l.contains("UnknownIssuer") && l.contains(&format!("127.0.0.1:{unknown_ca}"))),
        "the TLS failure is logged with the address: {logged:#?}"
    );

    let insecure = policy(
        scratch.path(),
        &allow,
        "insecure-skip-certificate-verification = true",
    );
    assert!(
        String::from_utf8_lossy(&LOGS.lock().unwrap())
            .contains("insecure-skip-certificate-verification is on"),
        "turning verification off is logged when the policy is built"
    );
    let unchecked = pool(scratch.path(), "insecure", Some(insecure)).await;
    assert_eq!(
        reply(
            &unchecked,
            &format!("net|127.0.0.1|{unknown_ca}|tls|anyway")
        )
        .await,
        "anyway"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn destinations_outside_the_allow_list_are_denied_and_logged() {
    capture_logs();
    let ca = Ca::new("test CA");
    let scratch = scratch_with(&ca);
    let listed = server(Serve::Plain).await;
    let unlisted = server(Serve::Plain).await;
    let allow = [
        format!("127.0.0.1:{listed}"),
        format!("*.example.org:{listed}"),
    ];
    let pool = pool(
        scratch.path(),
        "outside",
        Some(policy(scratch.path(), &allow, "")),
    )
    .await;

    assert_eq!(
        reply(&pool, &format!("net|127.0.0.1|{listed}|plain|in")).await,
        "in"
    );
    let r = reply(&pool, &format!("net|127.0.0.1|{unlisted}|plain|x")).await;
    assert!(
        r.starts_with("NetError::Denied(")
            && r.contains(&format!(
                "127.0.0.1:{unlisted} is not on this app's network allow-list"
            )),
        "{r}"
    );
    let r = reply(&pool, &format!("net|example.org|{listed}|plain|x")).await;
    assert!(
        r.starts_with("NetError::Denied(") && r.contains(&format!("example.org:{listed} is not")),
        "a wildcard never grants its bare suffix: {r}"
    );
    let r = reply(&pool, &format!("net|bad host|{listed}|plain|x")).await;
    assert!(
        r.starts_with("NetError::Denied(") && r.contains("not a host name"),
        "{r}"
    );

    let logged = warnings("outside");
    for needle in [
        format!("port={unlisted}"),
        "host=example.org".to_string(),
        "host=bad host".to_string(),
    ] {
        assert!(
            logged
                .iter()
                .any(|l| l.contains(&needle) && l.contains("denied:")),
            "a refusal with {needle} is logged: {logged:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn special_addresses_need_an_entry_naming_them() {
    capture_logs();
    let ca = Ca::new("test CA");
    let scratch = scratch_with(&ca);
    let port = server(Serve::Plain).await;

    let by_name_only = pool(
        scratch.path(),
        "special-name-only",
        Some(policy(scratch.path(), &[format!("localhost:{port}")], "")),
    )
    .await;
    let r = reply(&by_name_only, &format!("net|localhost|{port}|plain|x")).await;
    assert!(
        r.starts_with("NetError::Denied(")
            && r.contains("resolved only to addresses this app may not reach")
            && r.contains("127.0.0.1 (a loopback address)"),
        "{r}"
    );
    let logged = warnings("special-name-only");
    assert!(
        logged.iter().any(|l| l.contains("host=localhost")
            && l.contains(&format!("address=127.0.0.1:{port}"))
            && l.contains("a loopback address")),
        "the refused address is logged: {logged:#?}"
    );

    let with_address = pool(
        scratch.path(),
        "special-listed",
        Some(policy(
            scratch.path(),
            &[format!("localhost:{port}"), format!("127.0.0.1:{port}")],
            "",
        )),
    )
    .await;
    assert_eq!(
        reply(
            &with_address,
            &format!("net|localhost|{port}|plain|unlocked")
        )
        .await,
        "unlocked"
    );
    let r = reply(
        &with_address,
        &format!("net|::ffff:127.0.0.1|{port}|plain|x"),
    )
    .await;
    assert!(
        r.starts_with("NetError::Denied(")
            && r.contains(&format!(
                "[::ffff:127.0.0.1]:{port} is not on this app's network allow-list"
            )),
        "an IPv4-mapped address is another address: {r}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_connection_cap_holds_and_slots_come_back() {
    let ca = Ca::new("test CA");
    let scratch = scratch_with(&ca);
    let port = server(Serve::Plain).await;
    let pool = pool(
        scratch.path(),
        "cap",
        Some(policy(
            scratch.path(),
            &[format!("127.0.0.1:{port}")],
            "max-connections = 1",
        )),
    )
    .await;

    assert_eq!(
        reply(&pool, &format!("net-hold|127.0.0.1|{port}|plain|x")).await,
        "NetError::Limit",
        "a second connection while the first is open is refused"
    );
    assert_eq!(
        reply(&pool, &format!("net|127.0.0.1|{port}|plain|after drop")).await,
        "after drop",
        "dropping a connection gives its slot back"
    );
    match pool
        .export(vec![crate::common::add_thing(&format!(
            "net-panic|127.0.0.1|{port}|plain|x"
        ))])
        .await
    {
        Err(CallError::Failed(f)) => assert!(f.message.contains("holding a connection"), "{f}"),
        other => panic!("the instance should trap: {other:?}"),
    }
    assert_eq!(
        reply(&pool, &format!("net|127.0.0.1|{port}|plain|after trap")).await,
        "after trap",
        "a trapped instance's connections are closed with its store"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_network_table_every_connect_is_denied() {
    let scratch = tempfile::tempdir().unwrap();
    let port = server(Serve::Plain).await;
    let pool = pool(scratch.path(), "no-network", None).await;
    let r = reply(&pool, &format!("net|127.0.0.1|{port}|plain|x")).await;
    assert!(
        r.starts_with("NetError::Denied(") && r.contains("this app has no [network] allow-list"),
        "{r}"
    );
}

/// `ferry.toml` in `dir` with one app whose `[network]` table is `network`, assembled
/// as `ferry serve` does; the configuration error, if any.
async fn assemble(dir: &Path, network: &str) -> Option<ferry::config::ConfigError> {
    let text = format!(
        r#"[server]
insecure-http = true
listen = "127.0.0.1:0"
data = "data"
plugins = {plugins:?}

[apps.netapp]
plugin = "misbehave"
token = {{ value = "0123456789abcdef0123" }}
allow-inline-secrets = true

[apps.netapp.network]
{network}
"#,
        plugins = crate::common::component("fixture-misbehave.wasm")
            .parent()
            .unwrap()
            .display()
            .to_string(),
    );
    let file = dir.join("ferry.toml");
    std::fs::write(&file, &text).unwrap();
    let config = LoadedConfig::load(&file).unwrap();
    ferry::server::assemble(&config).await.err()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_configuration_names_the_line_of_a_bad_entry() {
    let scratch = scratch_with(&Ca::new("config CA"));
    let dir = scratch.path();
    let good = "allow = [\"ldap.example.org:636\"]\nca-file = \"ca.pem\"\nsystem-roots = false";
    assert_eq!(
        assemble(dir, good).await,
        None,
        "ca-file is found beside ferry.toml"
    );

    let e = assemble(
        dir,
        "allow = [\n  \"ldap.example.org:636\",\n  \"ldap.example.org\",\n]\nca-file = \"ca.pem\"",
    )
    .await
    .expect("a bad entry is refused");
    let written = std::fs::read_to_string(dir.join("ferry.toml")).unwrap();
    let line = 1 + written
        .lines()
        .position(|l| l.trim() == "\"ldap.example.org\",")
        .unwrap();
    assert_eq!(e.line, line, "the entry's own line: {e}");
    assert!(
        e.message
            .starts_with("app 'netapp': [network] allow entry 'ldap.example.org'")
            && e.message.contains("a port is required"),
        "{e}"
    );

    let e = assemble(dir, "ca-file = \"missing.pem\"")
        .await
        .expect("a missing CA file is refused");
    assert!(
        e.message.starts_with("app 'netapp': [network] ca-file")
            && e.message.contains("missing.pem"),
        "{e}"
    );
}
