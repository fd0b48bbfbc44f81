//! The one wasmtime [`Engine`] of a Ferry process: epoch interruption for CPU limits, the
//! pooling allocator for fast instantiation, and the ticker thread that advances epochs.

use anyhow::Context;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy,
};

use super::limits::{EPOCH_TICK, Limits};

/// Process-wide sizing of the instance pool, from `[server]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSizing {
    /// Component instances alive at once, across all apps (and the short-lived ones
    /// used to describe plugins).
    pub total_instances: u32,
}

impl Default for EngineSizing {
    /// 200 instances: 4 per app for 40 apps with room for describe calls and instances
    /// being replaced. Each memory slot reserves address space (not memory), so this
    /// costs virtual space only, well within a 64-bit process.
    fn default() -> Self {
        Self {
            total_instances: 200,
        }
    }
}

/// Core instances a component may contain. A Rust wasip2 component has a handful (the
/// program plus adapter shims); interpreters built by componentize-py/js have more.
const CORE_INSTANCES_PER_COMPONENT: u32 = 50;

/// Memories per component: the program's own plus a few for adapters.
const MEMORIES_PER_COMPONENT: u32 = 4;

/// Set (to anything) to have wasmtime write `/tmp/perf-PID.map`, so that `perf report`
/// names the functions of connectors' compiled code instead of showing bare addresses:
/// for profiling connectors (BENCHMARKS.md), never needed in production.
pub const PERF_MAP_ENV: &str = "FERRY_PERF_MAP";

/// Builds the engine. Call once per process: compiled components are tied to it.
pub fn build_engine(sizing: EngineSizing) -> anyhow::Result<Engine> {
    let mut pooling = PoolingAllocationConfig::new();
    pooling
        .total_component_instances(sizing.total_instances)
        .total_core_instances(sizing.total_instances * 8)
        .total_memories(sizing.total_instances * 2)
        .total_tables(sizing.total_instances * 8)
        .total_stacks(sizing.total_instances)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(CORE_INSTANCES_PER_COMPONENT)
        // Interpreter components carry large metadata; 4 MiB fits them (default 1 MiB).
        .max_component_instance_size(4 << 20)
        .max_memory_size(Limits::MAX_MEMORY_MIB as usize * 1024 * 1024)
        // Keep a few freed slots' pages resident so recycled instances start warm.
        .max_unused_warm_slots(16);

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling))
        // Guest stack per call; a recursion past it traps instead of growing host memory.
        .max_wasm_stack(1 << 20)
        .async_stack_size(2 << 20);
    super::ops::configure(&mut config);
    if std::env::var_os(PERF_MAP_ENV).is_some() {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("configuring the WebAssembly engine")?;
    start_epoch_ticker(&engine).context("starting the epoch thread")?;
    Ok(engine)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a plain thread (a tokio timer
/// would stall when the runtime is busy, which is exactly when limits matter). The
/// thread ends when the engine is dropped.
fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("ferry-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map(drop)
}

/// A stable text for the engine's compatibility (target, settings, wasmtime version),
/// used to key cached compiled artifacts.
pub fn compatibility_key(engine: &Engine) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
