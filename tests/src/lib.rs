//! The end-to-end harness: runs the real `ferry` binary as a child process on a free
//! loopback port with a generated certificate, and talks SCIM to it over HTTPS like an
//! identity provider would.
//!
//! The binary and the components come from `cargo xtask test` (`FERRY_BIN`,
//! `FERRY_PLUGIN_DIR`); without them the tests fail with a message saying so.

pub mod lifecycle;
pub mod scim;
pub mod targets;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use scim::ScimClient;

/// The workspace's root folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// The `ferry` binary under test.
pub fn ferry_bin() -> PathBuf {
    let bin = std::env::var_os("FERRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/debug/ferry"));
    assert!(
        bin.exists(),
        "{} does not exist: run the tests with `cargo xtask test`",
        bin.display()
    );
    bin
}

/// The folder of built components.
pub fn plugin_dir() -> PathBuf {
    let dir = std::env::var_os("FERRY_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/plugins"));
    assert!(
        dir.join("generic-sql.wasm").exists(),
        "{} has no generic-sql.wasm: run the tests with `cargo xtask test`",
        dir.display()
    );
    dir
}

/// A folder `root/plugins` holding only the built component `file`, so each test's
/// ferry loads exactly it.
pub fn plugin_folder_with(root: &Path, file: &str) -> PathBuf {
    let dir = root.join("plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let built = plugin_dir().join(file);
    assert!(
        built.exists(),
        "{} is missing: run the tests with `cargo xtask test` (it builds every component)",
        built.display()
    );
    std::fs::copy(built, dir.join(file)).unwrap();
    dir
}

/// A folder holding only the generic SQL connector.
pub fn sql_plugin_folder(root: &Path) -> PathBuf {
    plugin_folder_with(root, "generic-sql.wasm")
}

/// The `[server]` section of the end-to-end configurations: HTTPS on the port
/// [`Ferry::start`] picks, with the certificate it makes, data in `data/`.
pub fn server_section(plugins: &Path) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:{{port}}"
data = "data"
plugins = "{plugins}"
tls-cert = "tls/cert.pem"
tls-key = "tls/key.pem"
"#,
        plugins = plugins.display()
    )
}

/// The bearer token the test apps use; also the secret the log must never show.
pub const TOKEN: &str = "e2e-token-3b9f0c2d7a61e4855f";

/// A running `ferry serve`, stopped when dropped.
pub struct Ferry {
    child: Child,
    /// The folder with the configuration, certificate, log and data.
    pub dir: PathBuf,
    /// The HTTPS port.
    pub port: u16,
}

impl Ferry {
    /// Writes `tls/` and `token` into `dir` (once), and starts `ferry serve` with the
    /// configuration `config` (a TOML text in which `{port}` is replaced by a free port).
    pub fn start(dir: &Path, config: &str) -> Ferry {
        if !dir.join("tls/cert.pem").exists() {
            let status = Command::new(ferry_bin())
                .args(["cert", "--out"])
                .arg(dir.join("tls"))
                .args(["--name", "localhost", "--name", "127.0.0.1"])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "ferry cert failed");
            std::fs::write(dir.join("token"), TOKEN).unwrap();
        }
        let port = ferry_test_support::free_port();
        let config_file = dir.join("ferry.toml");
        std::fs::write(&config_file, config.replace("{port}", &port.to_string())).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("ferry.log"))
            .unwrap();
        let child = Command::new(ferry_bin())
            .args(["serve", "--config"])
            .arg(&config_file)
            .env("FERRY_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Ferry {
            child,
            dir: dir.to_path_buf(),
            port,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ferry.log")).unwrap_or_default()
    }

    /// A SCIM client for `app`, once the server answers TLS; panics with the log if it
    /// does not within a minute.
    pub async fn client(&mut self, app: &str) -> ScimClient {
        let client = ScimClient::new(&self.dir.join("tls/cert.pem"), self.port, app, TOKEN);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("ferry exited ({status}) before serving:\n{}", self.log());
            }
            if client.get("/ServiceProviderConfig").await.is_ok() {
                return client;
            }
            assert!(
                Instant::now() < deadline,
                "ferry did not serve within a minute:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `app` serves reads (its first import is done).
    pub async fn ready(&mut self, app: &str) -> ScimClient {
        let client = self.client(app).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = client.get("/Users?count=0").await.unwrap();
            if status == 200 {
                return client;
            }
            assert!(
                Instant::now() < deadline,
                "app {app} not ready: {status} {body}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the process (SIGTERM, then SIGKILL if it lingers) and waits for it.
    pub fn stop(&mut self) {
        ferry_test_support::stop_child(&mut self.child);
    }
}

impl Drop for Ferry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `ferry` with arguments and returns (success, stdout + stderr).
pub fn ferry_command(args: &[&str], dir: &Path) -> (bool, String) {
    let output = Command::new(ferry_bin())
        .args(args)
        .current_dir(dir)
        .env("FERRY_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Polls `check` every 200 ms until it returns `Some`, for at most 60 s (a generous
/// bound for background work such as a delta import; never a performance claim).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
