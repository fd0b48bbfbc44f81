//! Per-call overhead (issue 7; BENCHMARKS.md, scenario `per-call`): what one call of a
//! connector export costs through an app's pool, and what growing a pool by one instance
//! costs, each beside a native reference timed in the same run by the same loop.
//!
//! The connector is the `fixture-misbehave` test component: its `session.test-connection`
//! answers `ok` at once, so a call of it is all boundary and no work, and it is a small
//! Rust wasip2 component like the shipped connectors. The references are the same no-op
//! connector written as native Rust and linked into the host, which is what Ferry's
//! sandbox is paid against: there is no native pool to compare with, only the choice of
//! not sandboxing at all.
//!
//! `cargo bench -p ferry --bench per_call` (after `cargo xtask plugins`, or with
//! `FERRY_BENCH_COMPONENT` naming the built fixture); `cargo xtask bench` runs it and folds
//! criterion's estimates into its report through `bench/src/per_call.rs`, which reads the
//! benchmark ids below: rename them in both places.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ferry::runtime::Runtime;
use ferry::runtime::bindings::types::{Error, Setting, SettingValue};
use ferry::runtime::engine::EngineSizing;
use ferry::runtime::instance::Instance;
use ferry::runtime::limits::Limits;
use ferry::runtime::plugin::LoadedPlugin;
use ferry::runtime::pool::SessionPool;
use ferry::runtime::state::Grants;

/// The fixture's file: `FERRY_BENCH_COMPONENT`, else where `cargo xtask plugins` puts it.
fn component() -> PathBuf {
    let path = std::env::var_os("FERRY_BENCH_COMPONENT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/fixture-misbehave.wasm"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask plugins` first (or set FERRY_BENCH_COMPONENT)",
        path.display()
    );
    path
}

/// The settings every session is opened with: the fixture's well-behaved mode.
fn settings() -> Vec<Setting> {
    vec![Setting {
        name: "mode".into(),
        value: SettingValue::String("ok".into()),
    }]
}

/// The fixture's connector as native Rust linked into the host: a session that keeps
/// its settings and whose `test-connection` does nothing.
struct NativeSession {
    settings: Vec<Setting>,
}

impl NativeSession {
    /// `session.open`: the session's state on the heap, as a native connector's would be.
    fn open(settings: &[Setting]) -> Box<Self> {
        Box::new(Self {
            settings: settings.to_vec(),
        })
    }

    /// `session.test-connection`, with the signature the host calls: async, and the
    /// connector's error type.
    async fn test_connection(&self) -> Result<(), Error> {
        black_box(&self.settings);
        Ok(())
    }
}

/// Times `iters` awaited calls of `call`: one loop for Ferry and the references alike,
/// inside one `block_on` as a request handler awaits its calls, so starting the executor
/// is not counted per call. What `call` returns is dropped inside the loop, and timed.
fn timed<T>(
    runtime: &tokio::runtime::Runtime,
    iters: u64,
    mut call: impl AsyncFnMut() -> T,
) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(call().await);
        }
        start.elapsed()
    })
}

/// Times `iters` awaited calls of `create` as an app's pool grows to `size`: that many
/// are created and kept, then dropped untimed, and again, so only creating them counts.
fn timed_growth<T>(
    runtime: &tokio::runtime::Runtime,
    iters: u64,
    size: u32,
    mut create: impl AsyncFnMut() -> T,
) -> Duration {
    runtime.block_on(async {
        let mut pool = Vec::with_capacity(size as usize);
        let mut elapsed = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let grown = left.min(size.into());
            let start = Instant::now();
            for _ in 0..grown {
                pool.push(create().await);
            }
            elapsed += start.elapsed();
            pool.clear();
            left -= grown;
        }
        elapsed
    })
}

/// The fixture loaded as `ferry serve` loads a connector, and an app's grants for it
/// with the default limits (an app whose configuration sets none).
struct Fixture {
    plugin: Arc<LoadedPlugin>,
    grants: Grants,
    /// Compiled artifacts, removed when the benchmark ends.
    _compiled: tempfile::TempDir,
}

impl Fixture {
    fn load(runtime: &tokio::runtime::Runtime) -> Self {
        let compiled = tempfile::tempdir().expect("a scratch folder");
        let ferry = Runtime::new(EngineSizing::default(), compiled.path().to_path_buf())
            .expect("the engine");
        let plugin = runtime
            .block_on(ferry.load_plugin(&component()))
            .expect("the fixture loads");
        let grants = Grants {
            app: Arc::from("bench"),
            plugin: Arc::from("misbehave"),
            limits: Limits::default(),
            database: None,
            network: None,
            files: None,
        };
        Self {
            plugin,
            grants,
            _compiled: compiled,
        }
    }
}

fn per_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let fixture = Fixture::load(&runtime);
    let settings = settings();

    let mut group = c.benchmark_group("noop-call");
    // Through the pool, as every SCIM write reaches a connector: a permit, an idle
    // session, the call under its wall-clock limit and a fresh CPU budget, the session
    // back. One untimed call opens the session first, so only warm calls are timed.
    let pool = SessionPool::new(
        fixture.plugin.clone(),
        fixture.grants.clone(),
        settings.clone(),
    );
    runtime
        .block_on(pool.test_connection())
        .expect("the fixture's session opens");
    group.bench_function("ferry-pool", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                pool.test_connection().await.expect("a no-op succeeds")
            })
        })
    });
    // The same call on one instance held outside any pool: the pool's own share is the
    // difference from `ferry-pool`.
    let (mut instance, session) = runtime.block_on(async {
        let mut instance = Instance::new(fixture.plugin.pre(), &fixture.grants)
            .await
            .expect("the fixture instantiates");
        let session = instance.open(&settings).await.expect("no trap");
        (instance, session.expect("the fixture's session opens"))
    });
    group.bench_function("ferry-instance", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                instance
                    .guarded(async |guest, store| guest.test_connection(store, session).await)
                    .await
                    .expect("no trap")
                    .expect("a no-op succeeds")
            })
        })
    });
    let native = NativeSession::open(&settings);
    group.bench_function("native", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, async || {
                black_box(&native)
                    .test_connection()
                    .await
                    .expect("a no-op succeeds")
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("instantiate");
    let size = fixture.grants.limits.instances;
    // What a pool does when it grows: a store set up under the app's grants (WASI
    // context, memory limiter, hostcall fuel, CPU budget) and the component
    // instantiated in a slot of the pooling allocator.
    let instantiate = async || {
        Instance::new(fixture.plugin.pre(), &fixture.grants)
            .await
            .expect("the fixture instantiates")
    };
    group.bench_function("ferry", |b| {
        b.iter_custom(|iters| timed_growth(&runtime, iters, size, &instantiate))
    });
    // The same, each instance dropped at once: its whole life but the calls, as when a
    // failed instance is replaced.
    group.bench_function("ferry-and-drop", |b| {
        b.iter_custom(|iters| timed(&runtime, iters, &instantiate))
    });
    group.bench_function("native", |b| {
        b.iter_custom(|iters| {
            timed_growth(&runtime, iters, size, async || {
                NativeSession::open(black_box(&settings))
            })
        })
    });
    group.finish();
}

criterion_group!(benches, per_call);
criterion_main!(benches);
