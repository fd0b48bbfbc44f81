//! `cargo xtask bench [-- --scale F --runs R --only NAME --read-seconds S]`: builds Ferry
//! and the generic SQL connector in release, then runs the `ferry-bench` crate (bench/),
//! which starts PostgreSQL, measures each scenario against its reference and writes
//! `bench/results/<date>.json` and `.md`. See BENCHMARKS.md.

use crate::{cargo, ensure_wasm_target, root, run, target_dir};

/// Builds what the benchmarks measure (in release: a debug Ferry would measure the
/// compiler, not Ferry) and runs them with the user's arguments.
pub fn bench(args: &[String]) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let mut host = cargo();
    host.args(["build", "--release", "-p", "ferry"]);
    run(host)?;
    // Only the connector the scenarios use: another connector's work in progress must
    // not stop the benchmarks.
    let mut plugin = cargo();
    plugin.args([
        "build",
        "--profile",
        "plugin",
        "--target",
        "wasm32-wasip2",
        "-p",
        "generic-sql",
    ]);
    run(plugin)?;
    let mut bench = cargo();
    bench
        .args(["run", "--release", "-p", "ferry-bench", "--", "--ferry"])
        .arg(target_dir().join("release/ferry"))
        .arg("--plugin")
        .arg(target_dir().join("wasm32-wasip2/plugin/generic_sql.wasm"))
        .arg("--out")
        .arg(root().join("bench/results"))
        .args(args.iter().filter(|a| *a != "--"));
    run(bench)
}
