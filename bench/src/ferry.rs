//! `ferry serve` as a child process on a free loopback port, with the generic SQL
//! connector and one app `hr` on a PostgreSQL database: the configuration an operator
//! would write, nothing tuned for the benchmark.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::Options;

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

/// A running `ferry serve`, stopped when dropped.
pub struct Ferry {
    child: Child,
    dir: PathBuf,
    /// When the process was spawned.
    pub spawned: Instant,
    /// The SCIM base URL of app `hr`.
    pub base: String,
    /// A client that trusts this Ferry's certificate, with keep-alive connections.
    pub http: reqwest::Client,
}

impl Ferry {
    /// Starts Ferry in `dir` (emptied first, so the cache is cold) against `database_url`.
    pub fn start(
        options: &Options,
        dir: &Path,
        database_url: &str,
        scheme: Scheme,
    ) -> anyhow::Result<Ferry> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("plugins"))?;
        std::fs::copy(&options.plugin, dir.join("plugins/generic-sql.wasm"))
            .context("copying the generic SQL connector")?;
        std::fs::write(dir.join("token"), TOKEN)?;
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
plugin = "generic-sql"
token = {{ file = "token" }}

[apps.hr.database]
url = "{database_url}"

[apps.hr.import]
full-interval-minutes = 0
delta-interval-seconds = 0

[[apps.hr.settings.object-types]]
name = "user"
table = "users"
anchor = "id"
change-table = {{ table = "user_changes", sequence = "seq", anchor = "user_id" }}
"#
        );
        std::fs::write(dir.join("ferry.toml"), config)?;
        let log = std::fs::File::create(dir.join("ferry.log"))?;
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
        let spawned = Instant::now();
        let child = Command::new(&options.ferry)
            .args(["serve", "--config"])
            .arg(dir.join("ferry.toml"))
            .env("FERRY_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting ferry serve")?;
        Ok(Ferry {
            child,
            dir: dir.to_path_buf(),
            spawned,
            base: format!("{url_scheme}://127.0.0.1:{port}/apps/hr/scim/v2"),
            http,
        })
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ferry.log")).unwrap_or_default()
    }

    /// Waits until app `hr` serves reads (`GET /Users?count=0` answers 200: its first
    /// full import is done) and returns the time since the process was spawned.
    pub async fn ready(&mut self) -> anyhow::Result<Duration> {
        let url = format!("{}/Users?count=0", self.base);
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
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
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
    }
}
