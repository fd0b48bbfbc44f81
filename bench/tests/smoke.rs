//! The benchmarks keep working: issue 7 wants the suite run once in CI at tiny sizes,
//! with no timing in CI. `cargo xtask test` runs this against the debug `ferry` and the
//! components it built (FERRY_BIN, FERRY_PLUGIN_DIR); every scenario must run and write
//! its results, and no figure is judged: a missed target is a finding, not a failure.

use std::path::PathBuf;
use std::process::Command;

/// The workspace's target folder.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

/// A file that must exist, from an environment variable or its default place.
fn built(variable: &str, default: PathBuf) -> PathBuf {
    let path = std::env::var_os(variable).map_or(default, PathBuf::from);
    assert!(
        path.exists(),
        "{} does not exist: run the tests with `cargo xtask test`",
        path.display()
    );
    path
}

#[test]
fn every_scenario_runs_at_tiny_sizes() {
    let ferry = built("FERRY_BIN", target_dir().join("debug/ferry"));
    let plugins = built("FERRY_PLUGIN_DIR", target_dir().join("plugins"));
    // Two levels down, so the run cannot find a BENCHMARKS.md to point at its results.
    let scratch = std::env::temp_dir().join(format!("ferry-bench-smoke-{}", std::process::id()));
    let out = scratch.join("bench/results");
    let _ = std::fs::remove_dir_all(&scratch);
    let output = Command::new(env!("CARGO_BIN_EXE_ferry-bench"))
        .arg("--ferry")
        .arg(&ferry)
        .arg("--plugin")
        .arg(plugins.join("generic-sql.wasm"))
        .arg("--ldap-plugin")
        .arg(plugins.join("generic-ldap.wasm"))
        .arg("--out")
        .arg(&out)
        .args(["--scale", "0.001", "--runs", "1", "--read-seconds", "0.2"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ferry-bench failed:\n{log}");
    let written: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    for extension in ["json", "md", "svg"] {
        assert!(
            written
                .iter()
                .any(|p| p.extension().is_some_and(|e| e == extension)),
            "no .{extension} among {written:?}\n{log}"
        );
    }
    let json = written
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let scenarios: Vec<&str> = ["results", "figures"]
        .iter()
        .flat_map(|list| results[list].as_array().unwrap())
        .map(|case| case["scenario"].as_str().unwrap())
        .collect();
    for scenario in [
        "sql-import",
        "cached-read",
        "scim-create-sql",
        "ldap-import",
        "scim-create-ldap",
        "memory",
        "startup",
    ] {
        assert!(
            scenarios.contains(&scenario),
            "{scenario} is missing from {scenarios:?}"
        );
    }
    // The imports' untimed rounds ran with FERRY_COUNT_OPS, and Ferry counted.
    for scenario in ["sql-import", "ldap-import"] {
        let ops = results["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|case| case["scenario"] == scenario)
            .map(|case| &case["details"]["connector_wasm_ops_per_object"]);
        assert!(
            ops.and_then(serde_json::Value::as_u64)
                .is_some_and(|n| n > 0),
            "{scenario}: no connector operators counted ({ops:?})"
        );
    }
    std::fs::remove_dir_all(&scratch).unwrap();
}
