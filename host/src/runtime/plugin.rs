//! Loading one connector file: read it (bounded), validate its surface, compile it (or
//! take the cached artifact), link it against the host's imports, and ask it who it is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::Linker;

use super::bindings::types::ConnectorInfo;
use super::compile_cache::{CompileCache, sha256_hex};
use super::exports::Pre;
use super::instance::{Instance, InstanceFailure};
use super::limits::Limits;
use super::state::{Grants, StoreState};
use super::validate;

/// The largest connector file Ferry loads. Real connectors are well under 50 MiB even
/// with an interpreter inside; a bigger file is refused before it is read into memory.
pub const MAX_PLUGIN_BYTES: u64 = 256 << 20;

/// The CPU time a connector may use to be instantiated and describe itself while it is
/// loaded, in milliseconds: `describe` returns a constant, which takes a real connector
/// milliseconds (an interpreter's start, tens of them), so 5 s is only ever reached by a
/// runaway loop.
const DESCRIBE_CPU_MS: u32 = 5_000;

/// The wall-clock time the same may take, as a multiple of [`DESCRIBE_CPU_MS`]. Without
/// a wall-clock bound, a `describe` that waits in the host (which uses no CPU) would
/// stall loading, and with it the host's start, forever; three times the CPU budget lets
/// a spinning `describe` on a busy host (where it gets the CPU only part of the time)
/// still be stopped by its CPU limit, with the clearer message.
const DESCRIBE_WALL_FACTOR: u32 = 3;

/// The limits a connector is instantiated and described under while it is loaded.
fn describe_limits() -> Limits {
    Limits {
        cpu_ms_per_call: DESCRIBE_CPU_MS,
        call_timeout_seconds: DESCRIBE_CPU_MS.div_ceil(1000) * DESCRIBE_WALL_FACTOR,
        ..Limits::default()
    }
}

/// A connector ready to instantiate.
pub struct LoadedPlugin {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The hex SHA-256 of the file.
    pub sha256: String,
    /// The contract version it was built against, e.g. "0.1.0".
    pub contract: String,
    /// What `describe` returned.
    pub info: ConnectorInfo,
    /// The linked, compiled component.
    pub(crate) pre: Pre,
}

impl LoadedPlugin {
    /// The linked component, for instantiating it outside an app's pool: the per-call
    /// benchmarks (`host/benches/per_call.rs`) time exactly what a pool does when it
    /// grows, [`Instance::new`] on this.
    pub fn pre(&self) -> &Pre {
        &self.pre
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("path", &self.path)
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .field("contract", &self.contract)
            .finish()
    }
}

/// Why a file could not be loaded; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct PluginError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// Loads `path` as a connector.
pub async fn load(
    path: &Path,
    linker: &Linker<StoreState>,
    cache: &CompileCache,
) -> Result<Arc<LoadedPlugin>, PluginError> {
    let fail = |reason: String| PluginError {
        path: path.to_path_buf(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read it: {e}")))?
        .len();
    if size > MAX_PLUGIN_BYTES {
        return Err(fail(format!(
            "it is {} MiB; connectors larger than {} MiB are refused",
            size >> 20,
            MAX_PLUGIN_BYTES >> 20
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let surface = validate::surface(&bytes).map_err(fail)?;
    let contract = validate::check(&surface).map_err(fail)?;
    let sha256 = sha256_hex(&bytes);
    let engine = linker.engine().clone();
    // Compiling takes a while for a large component: keep it off the async workers.
    let component = {
        let (cache, sha) = (cache.clone(), sha256.clone());
        tokio::task::spawn_blocking(move || cache.load(&engine, &bytes, &sha))
            .await
            .map_err(|e| fail(format!("the compiler task failed: {e}")))?
    }
    .map_err(|e| fail(format!("{e:#}")))?;
    let pre = linker
        .instantiate_pre(&component)
        .and_then(|pre| Pre::new(&contract, pre))
        .map_err(|e| fail(format!("cannot be linked: {e:#}")))?;
    let grants = Grants {
        app: Arc::from("(describe)"),
        plugin: Arc::from(file_stem(path)),
        limits: describe_limits(),
        database: None,
        network: None,
        files: None,
    };
    let limit = grants.limits.call_timeout_seconds;
    let described = tokio::time::timeout(grants.limits.call_timeout(), async {
        let mut instance = Instance::new(&pre, &grants)
            .await
            .map_err(|e| format!("cannot be instantiated: {e}"))?;
        instance
            .describe()
            .await
            .map_err(|e| format!("describe() failed: {e}"))
    });
    let info = described
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "describe() failed: {}",
                InstanceFailure::timeout(limit)
            ))
        })
        .map_err(fail)?;
    if info.name.trim().is_empty() {
        return Err(fail("describe() returned an empty name".into()));
    }
    Ok(Arc::new(LoadedPlugin {
        path: path.to_path_buf(),
        sha256,
        contract,
        info,
        pre,
    }))
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
