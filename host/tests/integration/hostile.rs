//! Hostile connectors, each run beside a healthy app on the same engine: a connector
//! that loops, sleeps, hands back results far too large, probes its sandbox, scans and
//! floods the network, or cannot even be loaded. Each case must fail with a clear, typed
//! error; the hostile app's pool must recover; host memory must stay bounded; and the
//! healthy app must answer correctly throughout.
//!
//! This file holds what the cases share: the healthy app, pools of the misbehave
//! fixture, and the process's memory readings.

mod calls;
mod load;
mod net;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ferry::runtime::Runtime;
use ferry::runtime::bindings::types::{Setting, SettingValue, Value};
use ferry::runtime::engine::EngineSizing;
use ferry::runtime::instance::{FailureKind, InstanceFailure};
use ferry::runtime::limits::Limits;
use ferry::runtime::net::NetPolicy;
use ferry::runtime::pool::{CallError, SessionPool};
use ferry::runtime::state::Grants;

/// The longest any single hostile case may take before the test gives up on it: far
/// above every configured limit, so a hang fails the test instead of stalling it.
pub const BOUND: Duration = Duration::from_secs(120);

/// A runtime whose compiled artifacts live in `dir`.
pub fn runtime(dir: &std::path::Path) -> Runtime {
    Runtime::new(
        EngineSizing {
            total_instances: 32,
        },
        dir.join("compiled"),
    )
    .unwrap()
}

/// A pool of the misbehave fixture for `app`, opened with `mode`, under `limits`, with
/// `network` as its `[network]` grant.
pub async fn misbehave(
    runtime: &Runtime,
    app: &str,
    limits: Limits,
    mode: &str,
    network: Option<NetPolicy>,
) -> SessionPool {
    let grants = Grants {
        app: Arc::from(app),
        plugin: Arc::from("misbehave"),
        limits,
        database: None,
        network: network.map(Arc::new),
        files: None,
    };
    misbehave_granted(runtime, grants, mode).await
}

/// A pool of the misbehave fixture opened with `mode` under any `grants`.
pub async fn misbehave_granted(runtime: &Runtime, grants: Grants, mode: &str) -> SessionPool {
    let plugin = runtime
        .load_plugin(&crate::common::component("fixture-misbehave.wasm"))
        .await
        .unwrap();
    let settings = vec![Setting {
        name: "mode".into(),
        value: SettingValue::String(mode.into()),
    }];
    SessionPool::new(plugin, grants, settings)
}

/// Exports an add of `name`; the string attribute `attribute` of the object returned.
pub async fn answer(pool: &SessionPool, name: &str, attribute: &str) -> String {
    let call = pool.export(vec![crate::common::add_thing(name)]);
    let results = tokio::time::timeout(BOUND, call)
        .await
        .unwrap_or_else(|_| panic!("'{name}' did not finish"))
        .unwrap_or_else(|e| panic!("'{name}' failed: {e}"));
    let object = results.into_iter().next().unwrap().unwrap().unwrap();
    let found = object.attributes.iter().find(|a| a.name == attribute);
    match found.map(|a| &a.values[..]) {
        Some([Value::String(s)]) => s.clone(),
        other => panic!("no {attribute} for {name}: {other:?}"),
    }
}

/// Exports an add of `name`, which must fail the instance; the failure.
pub async fn failure(pool: &SessionPool, name: &str) -> InstanceFailure {
    let call = pool.export(vec![crate::common::add_thing(name)]);
    match tokio::time::timeout(BOUND, call).await {
        Ok(Err(CallError::Failed(f))) => f,
        Ok(other) => {
            // A wrongly accepted result may be huge: show its start only.
            let shown: String = format!("{other:?}").chars().take(500).collect();
            panic!("'{name}' should fail the instance, got {shown}")
        }
        Err(_) => panic!("'{name}' was not stopped"),
    }
}

/// Asserts that `pool` answers an ordinary call again after a failure.
pub async fn recovers(pool: &SessionPool) {
    assert_eq!(answer(pool, "after", "name").await, "after");
}

/// Asserts that `failure` is of `kind` and its message contains `needle`.
pub fn assert_failed(failure: &InstanceFailure, kind: FailureKind, needle: &str) {
    assert_eq!(failure.kind, kind, "{}", failure.message);
    assert!(
        failure.message.contains(needle),
        "the message should say '{needle}': {}",
        failure.message
    );
}

/// Concurrent callers of the healthy app.
const HEALTHY_WORKERS: usize = 2;

/// A healthy app on the same engine as the hostile one, called without pause by
/// [`HEALTHY_WORKERS`] tasks until [`Healthy::finish`]; every answer is checked.
pub struct Healthy {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    workers: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

impl Healthy {
    /// Starts the healthy app's callers on `runtime`.
    pub async fn start(runtime: &Runtime) -> Self {
        let limits = Limits {
            instances: HEALTHY_WORKERS as u32,
            ..Limits::default()
        };
        let pool = Arc::new(misbehave(runtime, "healthy", limits, "ok", None).await);
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let workers = (0..HEALTHY_WORKERS)
            .map(|worker| {
                let (pool, stop, served) = (pool.clone(), stop.clone(), served.clone());
                tokio::spawn(async move {
                    let mut wrong = Vec::new();
                    let mut call = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let name = format!("healthy-{worker}-{call}");
                        call += 1;
                        let outcome = pool.export(vec![crate::common::add_thing(&name)]).await;
                        match outcome.as_deref() {
                            Ok([Ok(Some(object))]) if object.anchor == name => {
                                served.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => wrong.push(format!("{name}: {outcome:?}")),
                        }
                        // A steady stream, not a busy loop that would starve the host.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    wrong
                })
            })
            .collect();
        let healthy = Self {
            stop,
            served,
            workers,
        };
        healthy.still_serving().await;
        healthy
    }

    /// Waits (bounded) until the healthy app has answered a few more calls: it is
    /// serving now, whatever the hostile app did.
    pub async fn still_serving(&self) {
        let before = self.served.load(Ordering::Relaxed);
        let more = async {
            while self.served.load(Ordering::Relaxed) < before + 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(BOUND, more)
            .await
            .expect("the healthy app stopped answering");
    }

    /// Stops the callers; asserts that every answer was correct.
    pub async fn finish(self) {
        self.still_serving().await;
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            let wrong = worker.await.unwrap();
            assert!(
                wrong.is_empty(),
                "the healthy app answered wrongly: {wrong:#?}"
            );
        }
        eprintln!(
            "the healthy app answered {} calls correctly",
            self.served.load(Ordering::Relaxed)
        );
    }
}

/// The process's resident memory now and at its peak, in bytes (`VmRSS`, `VmHWM`).
pub fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the process's peak resident memory to its current value, so the next
/// [`memory`] reading shows the peak since now.
pub fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}
