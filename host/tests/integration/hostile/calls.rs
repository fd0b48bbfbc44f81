//! Hostile calls on a loaded connector: one that waits forever without using CPU, results
//! far too large to copy (a string the guest really holds, a string that lies about its
//! length, one buffer aliased a hundred thousand times, a page of ten million objects),
//! and probes of what the sandbox shows.
//!
//! Loops, memory growth, recursion and panics in an export are
//! `runtime::traps_and_limits_discard_the_instance_and_the_pool_recovers`; a loop in
//! `open` is `runtime::open_failures_are_reported_not_fatal`; the same cases beside a
//! healthy app, through SCIM, are `tests/tests/hostile.rs`.

use ferry::runtime::instance::FailureKind;
use ferry::runtime::limits::Limits;
use ferry::runtime::pool::CallError;

use std::sync::Arc;

use ferry::runtime::state::{FilesGrant, Grants};

use super::{
    BOUND, Healthy, answer, assert_failed, failure, memory, misbehave, misbehave_granted, recovers,
    reset_peak, runtime,
};

const MIB: u64 = 1 << 20;

#[tokio::test(flavor = "multi_thread")]
async fn a_call_waiting_forever_is_stopped_by_the_wall_clock_limit() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let healthy = Healthy::start(&runtime).await;
    let limits = Limits {
        call_timeout_seconds: 1,
        instances: 1,
        ..Limits::default()
    };
    let pool = misbehave(&runtime, "sleeper", limits, "ok", None).await;
    let stopped = failure(&pool, "sleep").await;
    assert_failed(&stopped, FailureKind::Timeout, "longer than 1 s");
    recovers(&pool).await;
    healthy.finish().await;
}

/// What an oversized result costs the host beyond the memory its guest holds: the
/// process's peak resident memory while `call` runs, less the resident memory before
/// and the `guest` bytes the connector itself fills. Printed for the record.
async fn host_cost<T>(what: &str, guest: u64, call: impl Future<Output = T>) -> (T, u64) {
    reset_peak();
    let (before, _) = memory();
    let outcome = tokio::time::timeout(BOUND, call)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish"));
    let (_, peak) = memory();
    let cost = peak.saturating_sub(before).saturating_sub(guest);
    eprintln!(
        "{what}: peak RSS +{} MiB, of which the guest's own data {} MiB, the host's {} MiB",
        peak.saturating_sub(before) / MIB,
        guest / MIB,
        cost / MIB
    );
    (outcome, cost)
}

/// The most a refused result may cost the host: the most Ferry copies out of one call
/// (128 MiB, see `Limits::result_bytes`) and room for what other tests in this process
/// allocate meanwhile. Copying any of the results below would cost at least three times
/// this.
const COST_BOUND: u64 = 256 * MIB;

#[tokio::test(flavor = "multi_thread")]
async fn results_too_large_are_refused_before_they_are_copied() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let healthy = Healthy::start(&runtime).await;
    let big = Limits {
        memory_mib: 1024,
        instances: 1,
        ..Limits::default()
    };
    let pool = misbehave(&runtime, "large", big.clone(), "ok", None).await;

    // One 512 MiB string the guest really holds: copying it would double it.
    let (refused, cost) = host_cost("a 512 MiB string", 512 * MIB, async {
        failure(&pool, "long|536870912").await
    })
    .await;
    assert_failed(&refused, FailureKind::DataLimit, "128 MiB");
    assert!(cost < COST_BOUND, "the host copied it: {cost} bytes");
    recovers(&pool).await;

    // A string claiming 3 GiB over a 16-byte buffer: its length is checked against the
    // guest's memory, never trusted.
    let (refused, cost) = host_cost("a string claiming 3 GiB", 0, async {
        failure(&pool, "lie|3221225472").await
    })
    .await;
    assert_failed(&refused, FailureKind::Trap, "out of bounds of memory");
    assert!(cost < COST_BOUND, "{cost} bytes");
    recovers(&pool).await;

    // One MiB aliased by 100,000 values: the guest holds 1 MiB and 1.6 MB of values;
    // copying the result out would take 98 GiB.
    let (refused, cost) = host_cost("1 MiB aliased 100,000 times", 4 * MIB, async {
        failure(&pool, "alias|1048576|100000").await
    })
    .await;
    assert_failed(&refused, FailureKind::DataLimit, "128 MiB");
    assert!(cost < COST_BOUND, "{cost} bytes");
    recovers(&pool).await;
    healthy.still_serving().await;

    // A page of ten million objects: 240 MB in the guest's canonical form (and 360 MB as
    // the guest's own Rust values), 720 MB as host values.
    let pager = misbehave(&runtime, "pager", big, "huge-page", None).await;
    let (refused, cost) = host_cost("a page of 10 million objects", 600 * MIB, async {
        let mut session = pager.reserve().await.unwrap();
        session.full_import(None, 500).await
    })
    .await;
    match refused {
        Err(CallError::Failed(f)) => assert_failed(&f, FailureKind::DataLimit, "128 MiB"),
        other => panic!("the page should be refused: {other:?}"),
    }
    assert!(cost < COST_BOUND, "{cost} bytes");
    healthy.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_result_larger_than_the_guest_memory_limit_is_refused() {
    // 1 MiB aliased 100 times is 100 MiB to copy, from a guest limited to 16 MiB. The
    // engine's own default (128 MiB per call) would copy it; Ferry copies no more out
    // of a connector than its memory limit.
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let small = Limits {
        memory_mib: 16,
        instances: 1,
        ..Limits::default()
    };
    let pool = misbehave(&runtime, "small", small, "ok", None).await;
    let refused = failure(&pool, "alias|1048576|100").await;
    assert_failed(&refused, FailureKind::DataLimit, "16 MiB");
    recovers(&pool).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_shows_no_folders_sockets_or_names() {
    // Environment, arguments, /etc/passwd and `net` are
    // `runtime::the_sandbox_grants_nothing_by_default`; these are the rest of what a
    // guest could try through WASI.
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let pool = misbehave(&runtime, "prober", Limits::default(), "ok", None).await;
    for probe in ["root-dir", "cwd-dir", "open-dot", "tcp", "udp", "dns"] {
        let seen = answer(&pool, "probe", probe).await;
        assert!(seen.starts_with("refused: "), "{probe}: {seen}");
    }
}

/// A pool of the misbehave fixture granted `folder`, read-only or not.
async fn granted(
    runtime: &ferry::runtime::Runtime,
    folder: &std::path::Path,
    read_only: bool,
) -> ferry::runtime::pool::SessionPool {
    let grants = Grants {
        app: Arc::from("filer"),
        plugin: Arc::from("misbehave"),
        limits: Limits::default(),
        database: None,
        network: None,
        files: Some(FilesGrant {
            host_dir: folder.to_path_buf(),
            read_only,
        }),
    };
    misbehave_granted(runtime, grants, "ok").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_folder_is_reachable_and_nothing_beside_it() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let folder = scratch.path().join("granted");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("inside.txt"), "inside").unwrap();
    std::fs::write(scratch.path().join("outside.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(scratch.path().join("outside.txt"), folder.join("link.txt"))
        .unwrap();

    let pool = granted(&runtime, &folder, false).await;
    assert_eq!(answer(&pool, "files", "read").await, "allowed: inside");
    assert_eq!(answer(&pool, "files", "write").await, "allowed: written");
    assert_eq!(
        std::fs::read_to_string(folder.join("written.txt")).unwrap(),
        "from the guest"
    );
    for escape in ["dotdot", "link"] {
        let seen = answer(&pool, "files", escape).await;
        assert!(seen.starts_with("refused: "), "{escape}: {seen}");
    }

    std::fs::remove_file(folder.join("written.txt")).unwrap();
    let read_only = granted(&runtime, &folder, true).await;
    assert_eq!(answer(&read_only, "files", "read").await, "allowed: inside");
    let write = answer(&read_only, "files", "write").await;
    assert!(write.starts_with("refused: "), "read-only write: {write}");
    assert!(!folder.join("written.txt").exists());
}
