//! The runtime against real components: loading and refusing files, the compiled-artifact
//! cache, calls through a session pool, and a misbehaving connector that traps, loops,
//! exhausts memory and probes its sandbox — each contained, with the pool recovering.
//!
//! The components are built by `cargo xtask test` into `target/plugins` (or the folder
//! in `FERRY_PLUGIN_DIR`).

use std::path::Path;
use std::sync::Arc;

use ferry::runtime::Runtime;
use ferry::runtime::bindings::types::{ErrorKind, Setting, SettingValue, Value};
use ferry::runtime::engine::EngineSizing;
use ferry::runtime::instance::FailureKind;
use ferry::runtime::limits::Limits;
use ferry::runtime::pool::{CallError, SessionPool};
use ferry::runtime::state::Grants;

fn runtime(dir: &Path) -> Runtime {
    Runtime::new(
        EngineSizing {
            total_instances: 16,
        },
        dir.join("compiled"),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn loads_the_generic_sql_connector_and_reads_its_description() {
    let scratch = tempfile::tempdir().unwrap();
    let plugin = runtime(scratch.path())
        .load_plugin(&crate::common::component("generic-sql.wasm"))
        .await
        .unwrap();
    assert_eq!(plugin.info.name, "generic-sql");
    assert_eq!(plugin.contract, "0.2.0");
    assert!(
        plugin
            .info
            .parameters
            .iter()
            .any(|p| p.name == "object-types" && p.required)
    );
}

async fn refusal(file_name: &str, bytes: &[u8]) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join(file_name);
    std::fs::write(&path, bytes).unwrap();
    let e = runtime(scratch.path())
        .load_plugin(&path)
        .await
        .unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains(file_name),
        "the message names the file: {message}"
    );
    message
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_core_modules_foreign_imports_wrong_versions_and_truncated_files() {
    let m = refusal("core.wasm", &wat::parse_str("(module)").unwrap()).await;
    assert!(m.contains("core WebAssembly module"), "{m}");

    let foreign = wat::parse_str(
        r#"(component
            (import "evil:escape/run@1.0.0" (instance))
            (instance $i)
            (export "ferry:connector/connector@0.1.0" (instance $i)))"#,
    )
    .unwrap();
    let m = refusal("foreign.wasm", &foreign).await;
    assert!(m.contains("evil:escape/run@1.0.0"), "{m}");

    let future = wat::parse_str(
        r#"(component (instance $i) (export "ferry:connector/connector@0.9.0" (instance $i)))"#,
    )
    .unwrap();
    let m = refusal("future.wasm", &future).await;
    assert!(
        m.contains("0.9.0") && m.contains("0.1.0") && m.contains("0.2.0"),
        "{m}"
    );

    let real = std::fs::read(crate::common::component("generic-sql.wasm")).unwrap();
    let m = refusal("truncated.wasm", &real[..real.len() / 2]).await;
    assert!(m.contains("truncated") || m.contains("not a valid"), "{m}");

    let m = refusal(
        "empty-instance.wasm",
        &wat::parse_str(
            r#"(component (instance $i) (export "ferry:connector/connector@0.1.0" (instance $i)))"#,
        )
        .unwrap(),
    )
    .await;
    assert!(
        m.contains("cannot be linked"),
        "a component without the functions is refused: {m}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keeps_compiled_artifacts_and_recompiles_tampered_ones() {
    let scratch = tempfile::tempdir().unwrap();
    let file = crate::common::component("fixture-misbehave.wasm");
    runtime(scratch.path()).load_plugin(&file).await.unwrap();
    let compiled = scratch.path().join("compiled");
    let artifact = std::fs::read_dir(&compiled)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .expect("a compiled artifact was kept");
    let original = std::fs::read(&artifact).unwrap();
    let mut tampered = original.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    std::fs::write(&artifact, &tampered).unwrap();
    let plugin = runtime(scratch.path()).load_plugin(&file).await.unwrap();
    assert_eq!(plugin.info.name, "misbehave");
    assert_eq!(
        std::fs::read(&artifact).unwrap(),
        original,
        "the tampered artifact was replaced"
    );
}

fn pool(
    runtime_dir: &Path,
    limits: Limits,
    mode: &str,
) -> impl std::future::Future<Output = SessionPool> {
    let runtime_dir = runtime_dir.to_path_buf();
    let mode = mode.to_string();
    async move {
        let runtime = runtime(&runtime_dir);
        let plugin = runtime
            .load_plugin(&crate::common::component("fixture-misbehave.wasm"))
            .await
            .unwrap();
        let grants = Grants {
            app: Arc::from("test"),
            plugin: Arc::from("misbehave"),
            limits,
            database: None,
            network: None,
            files: None,
        };
        let settings = vec![Setting {
            name: "mode".into(),
            value: SettingValue::String(mode),
        }];
        SessionPool::new(plugin, grants, settings)
    }
}

fn tight() -> Limits {
    Limits {
        memory_mib: 32,
        cpu_ms_per_call: 300,
        instances: 1,
        ..Limits::default()
    }
}

async fn failure(pool: &SessionPool, name: &str) -> (FailureKind, String) {
    match pool.export(vec![crate::common::add_thing(name)]).await {
        Err(CallError::Failed(f)) => (f.kind, f.message),
        other => panic!("'{name}' should fail the instance, got {other:?}"),
    }
}

async fn works(pool: &SessionPool) {
    let results = pool
        .export(vec![crate::common::add_thing("fine")])
        .await
        .unwrap();
    let object = results.into_iter().next().unwrap().unwrap().unwrap();
    assert_eq!(object.anchor, "fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn traps_and_limits_discard_the_instance_and_the_pool_recovers() {
    let scratch = tempfile::tempdir().unwrap();
    let pool = pool(scratch.path(), tight(), "ok").await;
    works(&pool).await;

    let (kind, message) = failure(&pool, "panic").await;
    assert_eq!(kind, FailureKind::Trap);
    assert!(
        message.contains("misbehave was asked to panic"),
        "the guest's panic message is reported: {message}"
    );
    works(&pool).await;

    let (kind, message) = failure(&pool, "loop").await;
    assert_eq!(kind, FailureKind::CpuLimit, "{message}");
    assert!(message.contains("300 ms"), "{message}");
    works(&pool).await;

    let (kind, message) = failure(&pool, "grow").await;
    assert_eq!(kind, FailureKind::MemoryLimit, "{message}");
    assert!(message.contains("32 MiB"), "{message}");
    works(&pool).await;

    let (kind, message) = failure(&pool, "recurse").await;
    assert_eq!(kind, FailureKind::Trap, "{message}");
    // Rust's shadow stack lives in linear memory: overflowing it is an out-of-bounds
    // access; the engine's own stack limit gives a stack-overflow trap.
    assert!(
        message.contains("out of bounds") || message.contains("stack"),
        "{message}"
    );
    works(&pool).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_error_is_typed_and_keeps_the_instance() {
    let scratch = tempfile::tempdir().unwrap();
    let pool = pool(scratch.path(), tight(), "ok").await;
    let results = pool
        .export(vec![
            crate::common::add_thing("exists"),
            crate::common::add_thing("fine"),
        ])
        .await
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap_err().kind,
        ErrorKind::AlreadyExists
    );
    assert!(results[1].is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_grants_nothing_by_default() {
    let scratch = tempfile::tempdir().unwrap();
    let pool = pool(scratch.path(), tight(), "ok").await;
    let results = pool
        .export(vec![crate::common::add_thing("probe")])
        .await
        .unwrap();
    let object = results.into_iter().next().unwrap().unwrap().unwrap();
    let get = |name: &str| match &object
        .attributes
        .iter()
        .find(|a| a.name == name)
        .unwrap()
        .values[0]
    {
        Value::String(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(get("env"), "0", "no environment variables");
    assert_eq!(get("args"), "0", "no arguments");
    assert!(
        get("file").starts_with("refused"),
        "no files: {}",
        get("file")
    );
    assert!(get("net").contains("Denied"), "no network: {}", get("net"));
}

#[tokio::test(flavor = "multi_thread")]
async fn open_failures_are_reported_not_fatal() {
    let scratch = tempfile::tempdir().unwrap();
    let refused = pool(scratch.path(), tight(), "fail-open").await;
    match refused.test_connection().await {
        Err(CallError::Connector(e)) => assert_eq!(e.kind, ErrorKind::InvalidInput),
        other => panic!("{other:?}"),
    }
    let spinning = pool(scratch.path(), tight(), "loop-open").await;
    match spinning.test_connection().await {
        Err(CallError::Failed(f)) => assert_eq!(f.kind, FailureKind::CpuLimit),
        other => panic!("{other:?}"),
    }
}
