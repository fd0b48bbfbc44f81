//! `ferry serve` as a child process on a free loopback port, with one app `hr`: the
//! generic SQL connector on a PostgreSQL database or the generic LDAP connector on a
//! subtree of a slapd. The configuration an operator would write, nothing tuned for the
//! benchmark.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ferry_test_support::TempSlapd;

use crate::Options;

/// What makes Ferry count its connectors' WebAssembly operators (the host's
/// `runtime::ops::ENV`; the bench drives the binary, so it does not link the host).
const COUNT_OPS_ENV: &str = "FERRY_COUNT_OPS";

/// The app's bearer token (the bench's own throwaway secret).
pub const TOKEN: &str = "bench-token-5e1d9a7c3b20f4e8";

/// How long Ferry may take to start and import before the bench gives up: generous, as
/// a bound on a hang, never a performance claim.
const READY_WITHIN: Duration = Duration::from_secs(600);

/// Whether Ferry serves HTTPS (as deployed) or plain HTTP on loopback (to compare with
/// a plain HTTP reference server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// TLS with a certificate `ferry cert` made for 127.0.0.1.
    Https,
    /// `insecure-http = true`.
    Http,
}

/// The connector app `hr` runs and where its target is.
enum Connector<'a> {
    /// generic-sql on the users table of a PostgreSQL database.
    Sql { database_url: &'a str },
    /// generic-ldap on the inetOrgPerson entries below `base_dn`, bound as the admin over
    /// the plain port (as the `ldapsearch` and `ldapadd` references are).
    Ldap {
        slapd: &'a TempSlapd,
        base_dn: &'a str,
    },
}

impl Connector<'_> {
    /// The component to load and the plugin name it takes in `plugins/`.
    fn plugin<'o>(&self, options: &'o Options) -> (&'o Path, &'static str) {
        match self {
            Connector::Sql { .. } => (&options.plugin, "generic-sql"),
            Connector::Ldap { .. } => (&options.ldap_plugin, "generic-ldap"),
        }
    }

    /// The app's sections that depend on the connector, writing the secrets they name
    /// into `dir`.
    fn app_config(&self, dir: &Path) -> anyhow::Result<String> {
        Ok(match self {
            Connector::Sql { database_url } => format!(
                r#"
[apps.hr.database]
url = "{database_url}"

[[apps.hr.settings.object-types]]
name = "user"
table = "users"
anchor = "id"
change-table = {{ table = "user_changes", sequence = "seq", anchor = "user_id" }}
"#
            ),
            Connector::Ldap { slapd, base_dn } => {
                std::fs::write(dir.join("ldap.password"), slapd.admin_password())?;
                // Active is the password policy's lock, as in the e2e tests (their slapd
                // applies a policy with pwdLockout). The delta source is the default
                // (accesslog): delta polling is off, but the full import at start takes
                // its watermark from the log, as an operator's would, also after the
                // create scenario's adds crowded it.
                slapd.app_tables("hr", base_dn, "plain", None, None)
            }
        })
    }
}

/// A running `ferry serve`, stopped when dropped.
pub struct Ferry {
    child: Child,
    dir: PathBuf,
    /// Whether Ferry counts its connector's WebAssembly operators (`FERRY_COUNT_OPS`).
    count_ops: bool,
    /// When the process was spawned.
    pub spawned: Instant,
    /// The SCIM base URL of app `hr`.
    pub base: String,
    /// A client that trusts this Ferry's certificate, with keep-alive connections.
    pub http: reqwest::Client,
}

impl Ferry {
    /// Starts Ferry in `dir` (emptied first, so the cache is cold) against `database_url`;
    /// counting the connector's WebAssembly operators when `count_ops` (see
    /// [`Ferry::logged_ops`]).
    pub fn start(
        options: &Options,
        dir: &Path,
        database_url: &str,
        scheme: Scheme,
        count_ops: bool,
    ) -> anyhow::Result<Ferry> {
        let connector = Connector::Sql { database_url };
        Ferry::launch(options, dir, connector, scheme, count_ops)
    }

    /// Starts Ferry in `dir` (emptied first, so the cache is cold) on the users below
    /// `base_dn` in `slapd`; counting operators when `count_ops`, as [`Ferry::start`].
    pub fn start_ldap(
        options: &Options,
        dir: &Path,
        slapd: &TempSlapd,
        base_dn: &str,
        scheme: Scheme,
        count_ops: bool,
    ) -> anyhow::Result<Ferry> {
        let connector = Connector::Ldap { slapd, base_dn };
        Ferry::launch(options, dir, connector, scheme, count_ops)
    }

    /// Writes the plugins folder, the token and the configuration into `dir`, then spawns
    /// `ferry serve` on it.
    fn launch(
        options: &Options,
        dir: &Path,
        connector: Connector,
        scheme: Scheme,
        count_ops: bool,
    ) -> anyhow::Result<Ferry> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("plugins"))?;
        let (plugin, plugin_name) = connector.plugin(options);
        std::fs::copy(plugin, dir.join(format!("plugins/{plugin_name}.wasm")))
            .with_context(|| format!("copying the {plugin_name} connector"))?;
        std::fs::write(dir.join("token"), TOKEN)?;
        let app_config = connector.app_config(dir)?;
        let port = ferry_test_support::free_port();
        let transport = match scheme {
            Scheme::Https => {
                let status = Command::new(&options.ferry)
                    .args(["cert", "--out"])
                    .arg(dir.join("tls"))
                    .args(["--name", "127.0.0.1"])
                    .stdout(Stdio::null())
                    .status()
                    .context("running ferry cert")?;
                if !status.success() {
                    bail!("ferry cert failed ({status})");
                }
                "tls-cert = \"tls/cert.pem\"\ntls-key = \"tls/key.pem\""
            }
            Scheme::Http => "insecure-http = true",
        };
        // Imports: the first full import at start, then none (no timed full import, no
        // delta polling) so nothing runs in the background of a measurement.
        let config = format!(
            r#"[server]
listen = "127.0.0.1:{port}"
data = "data"
plugins = "plugins"
plugin-poll-seconds = 0
{transport}

[apps.hr]
plugin = "{plugin_name}"
token = {{ file = "token" }}

[apps.hr.import]
full-interval-minutes = 0
delta-interval-seconds = 0
{app_config}"#
        );
        std::fs::write(dir.join("ferry.toml"), config)?;
        let mut builder = reqwest::Client::builder().pool_max_idle_per_host(64);
        let url_scheme = match scheme {
            Scheme::Https => {
                let pem = std::fs::read(dir.join("tls/cert.pem"))?;
                builder = builder
                    .use_rustls_tls()
                    .tls_built_in_root_certs(false)
                    .add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
                "https"
            }
            Scheme::Http => "http",
        };
        let http = builder.build()?;
        let (child, spawned) = spawn(&options.ferry, dir, count_ops)?;
        Ok(Ferry {
            child,
            dir: dir.to_path_buf(),
            count_ops,
            spawned,
            base: format!("{url_scheme}://127.0.0.1:{port}/apps/hr/scim/v2"),
            http,
        })
    }

    /// The process id, for its memory figures.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The certificate and key `ferry cert` made for an HTTPS Ferry, so a reference
    /// server can present the same.
    pub fn tls_files(&self) -> (PathBuf, PathBuf) {
        (self.dir.join("tls/cert.pem"), self.dir.join("tls/key.pem"))
    }

    /// Sets the app's pool size (`[apps.hr.limits] instances`) for the next
    /// [`Ferry::restart`]: Ferry reads its configuration at start only. Call it once.
    pub fn set_instances(&self, instances: u32) -> anyhow::Result<()> {
        let path = self.dir.join("ferry.toml");
        let config = std::fs::read_to_string(&path)?;
        std::fs::write(
            path,
            format!("{config}\n[apps.hr.limits]\ninstances = {instances}\n"),
        )?;
        Ok(())
    }

    /// Stops Ferry and starts it again on the same data folder and port (its cache kept),
    /// as an operator's restart does; `spawned` is the new process's.
    pub fn restart(&mut self, options: &Options) -> anyhow::Result<()> {
        ferry_test_support::stop_child(&mut self.child);
        (self.child, self.spawned) = spawn(&options.ferry, &self.dir, self.count_ops)?;
        Ok(())
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ferry.log")).unwrap_or_default()
    }

    /// Waits until app `hr` serves reads (`GET /Users?count=0` answers 200: its first
    /// full import is done) and returns the time since the process was spawned.
    pub async fn ready(&mut self) -> anyhow::Result<Duration> {
        self.answers("/Users?count=0", Duration::from_millis(25))
            .await
    }

    /// Asks `GET path_and_query` every `poll` until it answers 200 and returns the time
    /// since the process was spawned.
    pub async fn answers(
        &mut self,
        path_and_query: &str,
        poll: Duration,
    ) -> anyhow::Result<Duration> {
        let url = format!("{}{path_and_query}", self.base);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("ferry exited ({status}):\n{}", self.log());
            }
            let answered = self.http.get(&url).bearer_auth(TOKEN).send().await;
            if answered.is_ok_and(|r| r.status() == 200) {
                return Ok(self.spawned.elapsed());
            }
            if self.spawned.elapsed() > READY_WITHIN {
                bail!(
                    "ferry did not serve within {READY_WITHIN:?}:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// The WebAssembly operators the connector executed per imported object in the first
    /// full import, as a Ferry started with `count_ops` logged it (`full import counted
    /// … per_object=N`); `None` from a Ferry that did not count.
    pub fn logged_ops(&self) -> Option<u64> {
        self.log()
            .lines()
            .find(|line| line.contains("full import counted"))
            .and_then(|line| field(line, "per_object"))
    }

    /// The duration of the first full import as Ferry logged it (`full import done …
    /// millis=N`): from opening the cache generation to the last page stored.
    pub fn logged_import(&self) -> anyhow::Result<Duration> {
        let log = self.log();
        log.lines()
            .find(|line| line.contains("full import done"))
            .and_then(|line| field(line, "millis"))
            .map(Duration::from_millis)
            .with_context(|| format!("no `full import done … millis=` in the log:\n{log}"))
    }
}

/// Spawns `ferry serve` on the configuration in `dir`, logging to `dir/ferry.log`
/// (emptied first), with `FERRY_COUNT_OPS` set when `count_ops`; returns the child and
/// when it was spawned.
fn spawn(ferry: &Path, dir: &Path, count_ops: bool) -> anyhow::Result<(Child, Instant)> {
    let log = std::fs::File::create(dir.join("ferry.log"))?;
    let spawned = Instant::now();
    let mut command = Command::new(ferry);
    if count_ops {
        command.env(COUNT_OPS_ENV, "1");
    } else {
        command.env_remove(COUNT_OPS_ENV);
    }
    let child = command
        .args(["serve", "--config"])
        .arg(dir.join("ferry.toml"))
        .env("FERRY_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting ferry serve")?;
    Ok((child, spawned))
}

/// The numeric value of `name=N` in a log line.
fn field(line: &str, name: &str) -> Option<u64> {
    let start = line.find(&format!("{name}="))? + name.len() + 1;
    let digits: String = line[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

impl Drop for Ferry {
    fn drop(&mut self) {
        ferry_test_support::stop_child(&mut self.child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_numeric_log_field() {
        let line = "2026-01-01T00:00:00Z  INFO ferry::app::import: full import done app=hr objects=100 removed=0 millis=1234";
        assert_eq!(field(line, "millis"), Some(1234));
        assert_eq!(field(line, "objects"), Some(100));
        assert_eq!(field(line, "pages"), None);
        let counted = "2026-01-01T00:00:00Z  INFO ferry::app::import: full import counted (FERRY_COUNT_OPS) app=hr wasm_ops=930420000 per_object=46521";
        assert_eq!(field(counted, "per_object"), Some(46_521));
    }
}
