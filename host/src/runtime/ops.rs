//! Counting the WebAssembly operators connectors execute, when [`ENV`] is set: a measure
//! of a connector's own work that, unlike its time, barely changes with the load on a
//! shared machine. Two builds of the LDAP connector 20% apart in operators (4.65–4.85
//! against 6.08–6.15 billion per 100k-entry import, four runs each) could not be told
//! apart by the ratio of 14 alternating timed runs each (BENCHMARKS.md, "Profiling").
//!
//! wasmtime counts by fuel: the count is compiled into every connector, which makes them
//! slower, so it is a switch for measuring, never for production. The count is
//! process-wide: a full import reports what was executed while it ran, other calls
//! included, so measure on a Ferry doing nothing else.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{Config, Store};

/// Set (to anything) in the environment of `ferry serve` to count operators.
pub const ENV: &str = "FERRY_COUNT_OPS";

/// Each store's fuel when counting: more than a process ever executes (wasmtime's fuel
/// is an `i64` inside, so not `u64::MAX`), so counting never stops a connector.
const FUEL: u64 = i64::MAX as u64 / 2;

static COUNTING: LazyLock<bool> = LazyLock::new(|| std::env::var_os(ENV).is_some());

static EXECUTED: AtomicU64 = AtomicU64::new(0);

/// Has `config` count operators when [`ENV`] is set.
pub fn configure(config: &mut Config) {
    if *COUNTING {
        config.consume_fuel(true);
    }
}

/// Gives a new store the fuel to count with (nothing when the engine does not count).
pub fn fill<T>(store: &mut Store<T>) {
    // Fails only when the engine does not count.
    let _ = store.set_fuel(FUEL);
}

/// The store's fuel now, to pass to [`note_since`] after a call; `None` when not counting.
pub fn fuel<T>(store: &Store<T>) -> Option<u64> {
    store.get_fuel().ok()
}

/// Adds the operators a call executed since `before` (from [`fuel`]) to the count.
pub fn note_since<T>(store: &Store<T>, before: Option<u64>) {
    if let Some(before) = before
        && let Ok(now) = store.get_fuel()
    {
        EXECUTED.fetch_add(before.saturating_sub(now), Ordering::Relaxed);
    }
}

/// The operators connectors executed so far in this process; `None` when not counting.
pub fn executed() -> Option<u64> {
    COUNTING.then(|| EXECUTED.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_each_call_executes() {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let wasm = wat::parse_str(
            r#"(module (func (export "spin") (param i32)
                 (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                          (br_if $l (local.get 0)))))"#,
        )
        .unwrap();
        let module = wasmtime::Module::new(&engine, wasm).unwrap();
        let mut store = Store::new(&engine, ());
        fill(&mut store);
        let spin = wasmtime::Instance::new(&mut store, &module, &[])
            .unwrap()
            .get_typed_func::<i32, ()>(&mut store, "spin")
            .unwrap();
        let mut counted = Vec::new();
        for rounds in [1_000, 2_000] {
            let before = fuel(&store);
            let total = EXECUTED.load(Ordering::Relaxed);
            spin.call(&mut store, rounds).unwrap();
            note_since(&store, before);
            counted.push(EXECUTED.load(Ordering::Relaxed) - total);
        }
        // Six operators a round (`loop` is free), and the call itself.
        assert_eq!(counted[1] - counted[0], 6_000, "{counted:?}");
        assert!((6_000..6_010).contains(&counted[0]), "{counted:?}");
    }

    #[test]
    fn counts_nothing_on_an_engine_that_does_not() {
        let engine = wasmtime::Engine::default();
        let mut store = Store::new(&engine, ());
        fill(&mut store);
        assert_eq!(fuel(&store), None);
    }
}
