//! Connectors refused at load: one plugins folder holding a bad file of every kind beside
//! two good connectors. Each bad file is refused with a message naming it and the
//! reason; the good ones load; a `describe` that never returns costs the host at most
//! its limit; and the healthy app answers throughout.
//!
//! Single-file refusals of a core module, a foreign import, an unknown contract version
//! and a truncated file are
//! `runtime::refuses_core_modules_foreign_imports_wrong_versions_and_truncated_files`;
//! here they only show that one bad file does not stop the others.

use std::path::Path;

use ferry::server::Catalog;
use wasmparser::{ComponentAlias, ComponentOuterAliasKind, Parser, Payload};

use super::{BOUND, Healthy, runtime};

/// Elements the spliced module's start function asks a table to grow by: 100 million,
/// a hundred times the host's table limit.
const TABLE_GROWTH: u32 = 100_000_000;

/// `component` with one more core instance at its end, of a module whose start function
/// grows a table by [`TABLE_GROWTH`] elements. Instantiating the component runs it.
///
/// Rust cannot emit `table.grow`, so the request is spliced into a real connector: the
/// result links like the original, and only instantiation shows the difference.
fn with_table_grow(component: &[u8]) -> Vec<u8> {
    let module = wat::parse_str(format!(
        "(module (table 1 funcref)
            (func $grow (drop (table.grow (ref.null func) (i32.const {TABLE_GROWTH}))))
            (start $grow))"
    ))
    .unwrap();
    // The new module's index is the number of core modules the component defines.
    let mut depth = 0usize;
    let mut modules = 0u32;
    for payload in Parser::new(0).parse_all(component) {
        match payload.unwrap() {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ModuleSection { .. } if depth == 1 => modules += 1,
            Payload::ComponentAliasSection(aliases) if depth == 1 => {
                for alias in aliases {
                    let outer_module = matches!(
                        alias.unwrap(),
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::CoreModule,
                            ..
                        }
                    );
                    assert!(!outer_module, "a core module alias would shift the index");
                }
            }
            _ => {}
        }
    }
    let mut instance = vec![1, 0]; // one instance: instantiate …
    leb128(&mut instance, modules); // … the new module …
    instance.push(0); // … with no arguments
    let mut spliced = component.to_vec();
    for (id, content) in [(1u8, &module), (2, &instance)] {
        spliced.push(id);
        leb128(&mut spliced, content.len() as u32);
        spliced.extend_from_slice(content);
    }
    spliced
}

/// Appends `value` in unsigned LEB128, as section sizes and indices are encoded.
fn leb128(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Copies the built component `file` into `dir`.
fn copy(file: &str, dir: &Path) {
    std::fs::copy(crate::common::component(file), dir.join(file)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_are_refused_by_name_and_the_good_ones_load() {
    let scratch = tempfile::tempdir().unwrap();
    let runtime = runtime(scratch.path());
    let healthy = Healthy::start(&runtime).await;
    let dir = scratch.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    copy("generic-sql.wasm", &dir);
    copy("fixture-misbehave.wasm", &dir);
    copy("fixture-describe-loop.wasm", &dir);
    copy("fixture-describe-sleep.wasm", &dir);
    let misbehave = std::fs::read(crate::common::component("fixture-misbehave.wasm")).unwrap();
    std::fs::write(dir.join("table.wasm"), with_table_grow(&misbehave)).unwrap();
    std::fs::write(dir.join("core.wasm"), wat::parse_str("(module)").unwrap()).unwrap();
    std::fs::write(
        dir.join("truncated.wasm"),
        &misbehave[..misbehave.len() / 3],
    )
    .unwrap();
    let foreign = r#"(component
        (import "wasi:http/outgoing-handler@0.2.0" (instance))
        (instance $i)
        (export "ferry:connector/connector@0.1.0" (instance $i)))"#;
    std::fs::write(dir.join("foreign.wasm"), wat::parse_str(foreign).unwrap()).unwrap();
    // 500 MB that take no space: the size is refused before anything is read.
    let huge = std::fs::File::create(dir.join("huge.wasm")).unwrap();
    huge.set_len(500 << 20).unwrap();
    drop(huge);

    let catalog = tokio::time::timeout(BOUND, Catalog::load(&runtime, &dir))
        .await
        .expect("loading the folder stalled")
        .unwrap();

    let mut loaded: Vec<&str> = catalog.plugins.keys().map(String::as_str).collect();
    loaded.sort();
    assert_eq!(loaded, ["generic-sql", "misbehave"]);
    let reasons: Vec<String> = catalog.refused.iter().map(ToString::to_string).collect();
    for (file, reason) in [
        ("core.wasm", "core WebAssembly module"),
        ("truncated.wasm", "unexpected end-of-file"),
        ("foreign.wasm", "imports `wasi:http/outgoing-handler@0.2.0`"),
        (
            "huge.wasm",
            "it is 500 MiB; connectors larger than 256 MiB are refused",
        ),
        (
            "table.wasm",
            "cannot be instantiated: the connector tried to grow a table to 100000001 elements",
        ),
        (
            "fixture-describe-loop.wasm",
            "describe() failed: the connector exceeded its CPU limit of 5000 ms per call",
        ),
        (
            "fixture-describe-sleep.wasm",
            "describe() failed: the connector call took longer than 15 s",
        ),
    ] {
        let path = dir.join(file);
        let prefix = format!("{}: ", path.display());
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with(&prefix) && r.contains(reason)),
            "{file} should be refused with '{reason}': {reasons:#?}"
        );
    }
    assert_eq!(reasons.len(), 7, "{reasons:#?}");
    healthy.finish().await;
}
