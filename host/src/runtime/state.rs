//! The data each connector instance's store carries: its WASI context (empty by
//! default), its resource table, its memory limiter, its CPU budget and the capabilities
//! its app grants.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{log, types};
use super::guest_output::GuestOutput;
use super::limits::Limits;
use super::net::NetPolicy;
use super::sql::SqlTarget;
use super::sql_host::SqlCapability;

/// What an app grants its connector instances: the limits they run under and the
/// capabilities they may use. Built once per app from its configuration.
#[derive(Debug, Clone)]
pub struct Grants {
    /// The app's name, for log lines and refusals.
    pub app: Arc<str>,
    /// The plugin's name, for log lines.
    pub plugin: Arc<str>,
    /// Memory, CPU and time limits.
    pub limits: Limits,
    /// The database the `sql` capability reaches, if any.
    pub database: Option<SqlTarget>,
    /// What the `net` capability may reach, shared by the app's instances so the
    /// connection cap holds across them; `None` denies every connect.
    pub network: Option<Arc<NetPolicy>>,
    /// The folder the connector may use, if any.
    pub files: Option<FilesGrant>,
}

/// A host folder granted to an app's connector, seen by the guest as [`FILES_GUEST_PATH`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesGrant {
    /// The folder on the host (absolute).
    pub host_dir: std::path::PathBuf,
    /// Reading only.
    pub read_only: bool,
}

/// Where a granted folder appears inside the connector.
pub const FILES_GUEST_PATH: &str = "/data";

/// A store's data. One per instance; never shared between apps.
pub struct StoreState {
    /// The app the instance belongs to.
    pub app: Arc<str>,
    /// The plugin the instance runs.
    pub plugin: Arc<str>,
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) sql: SqlCapability,
    pub(crate) network: Option<Arc<NetPolicy>>,
    pub(crate) output: GuestOutput,
    /// Epoch ticks the current call has run for.
    pub(crate) ticks_used: u64,
    /// Epoch ticks a call may run for.
    pub(crate) ticks_allowed: u64,
}

impl StoreState {
    /// A fresh state for one instance under these grants. The WASI context has no
    /// arguments, no environment and no sockets, and no directory but the one the app
    /// grants: a connector sees only what the `ferry:connector` imports and its grants
    /// give it. Fails when the granted folder cannot be opened.
    pub fn new(grants: &Grants) -> wasmtime::Result<Self> {
        let output = GuestOutput::default();
        let mut wasi = WasiCtx::builder();
        wasi.stdout(output.clone())
            .stderr(output.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let Some(files) = &grants.files {
            let perms = if files.read_only {
                wasmtime_wasi::FsPerms::ReadOnly
            } else {
                wasmtime_wasi::FsPerms::ReadWrite
            };
            wasi.preopened_dir(&files.host_dir, FILES_GUEST_PATH, perms)?;
        }
        let wasi = wasi.build();
        Ok(Self {
            app: grants.app.clone(),
            plugin: grants.plugin.clone(),
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes: grants.limits.memory_bytes(),
            },
            sql: SqlCapability::new(grants.database.clone()),
            network: grants.network.clone(),
            output,
            ticks_used: 0,
            ticks_allowed: grants.limits.cpu_ticks(),
        })
    }
}

/// The most elements a guest table may hold. Tables hold function references; a
/// million is far beyond any real program and keeps a hostile `table.grow` bounded.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Stops a guest's memory or table growth beyond the app's limit with a trap that says
/// so (a failed `memory.grow` would otherwise surface as an obscure allocation failure
/// inside the guest).
pub struct Limiter {
    memory_bytes: usize,
}

/// The error a call ends with when its instance tried to grow past its memory limit.
#[derive(Debug, thiserror::Error)]
#[error(
    "the connector exceeded its memory limit of {limit_mib} MiB (it asked for {asked_mib} MiB)"
)]
pub struct MemoryLimitExceeded {
    /// The app's limit.
    pub limit_mib: usize,
    /// What the guest asked for.
    pub asked_mib: usize,
}

/// The error a call ends with when its instance tried to grow a table past the limit.
#[derive(Debug, thiserror::Error)]
#[error("the connector tried to grow a table to {asked} elements (limit {MAX_TABLE_ELEMENTS})")]
pub struct TableLimitExceeded {
    /// What the guest asked for.
    pub asked: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(MemoryLimitExceeded {
                limit_mib: self.memory_bytes >> 20,
                asked_mib: desired >> 20,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            return Err(TableLimitExceeded { asked: desired }.into());
        }
        Ok(true)
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for StoreState {}

/// The longest log message kept from a guest; longer ones are cut, so a guest cannot
/// flood the host's log with one call.
const MAX_LOG_MESSAGE: usize = 4096;

impl log::Host for StoreState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let message = printable(truncate(&message, MAX_LOG_MESSAGE));
        let (app, plugin) = (&*self.app, &*self.plugin);
        match level {
            log::Level::Trace => tracing::trace!(app, plugin, "{message}"),
            log::Level::Debug => tracing::debug!(app, plugin, "{message}"),
            log::Level::Info => tracing::info!(app, plugin, "{message}"),
            log::Level::Warn => tracing::warn!(app, plugin, "{message}"),
            log::Level::Error => tracing::error!(app, plugin, "{message}"),
        }
        Ok(())
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` with control characters (newlines included) escaped, so a guest's message
/// stays on one log line and cannot forge another.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundaries_and_escapes_controls() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(
            printable("a\nINFO forged\r\u{1b}[31m"),
            "a\\nINFO forged\\r\\u{1b}[31m"
        );
        assert_eq!(printable("plain 😀"), "plain 😀");
    }
}
