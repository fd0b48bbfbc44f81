//! The connector runtime: one wasmtime engine, sandboxed component instances, and the
//! host capabilities connectors import.

pub mod adapters;
pub mod bindings;
pub mod compile_cache;
pub mod convert;
pub mod engine;
pub mod exports;
pub mod guest_output;
pub mod instance;
pub mod limits;
pub mod net;
pub mod ops;
pub mod plugin;
pub mod pool;
pub mod sql;
pub mod sql_host;
pub mod state;
pub mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use self::compile_cache::CompileCache;
use self::engine::EngineSizing;
use self::plugin::{LoadedPlugin, PluginError};
use self::state::StoreState;

/// The engine, the linker with every host import, and the compiled-artifact cache. One
/// per process.
pub struct Runtime {
    linker: Linker<StoreState>,
    cache: CompileCache,
}

impl Runtime {
    /// A runtime whose compiled artifacts live in `compiled_dir`.
    pub fn new(sizing: EngineSizing, compiled_dir: PathBuf) -> anyhow::Result<Self> {
        let engine = engine::build_engine(sizing)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(anyhow::Error::from)
            .context("linking WASI")?;
        bindings::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)
            .context("linking the ferry:connector imports")?;
        adapters::v0_1_0::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)
            .context("linking the ferry:connector@0.1.0 imports")?;
        let cache = CompileCache::new(compiled_dir, &engine);
        Ok(Self { linker, cache })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        self.linker.engine()
    }

    /// Loads one connector file.
    pub async fn load_plugin(&self, path: &Path) -> Result<Arc<LoadedPlugin>, PluginError> {
        plugin::load(path, &self.linker, &self.cache).await
    }
}
