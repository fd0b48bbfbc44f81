//! `cargo xtask bench [-- --scale F --runs R --only NAME --read-seconds S]`: builds Ferry
//! and the generic SQL and LDAP connectors in release, runs the host's criterion
//! benchmark of per-call overhead (host/benches/per_call.rs), then runs the `ferry-bench`
//! crate (bench/), which starts PostgreSQL and slapd, measures each scenario against its
//! reference, adds criterion's per-call estimates and writes `bench/results/<date>.json`
//! and `.md`. See BENCHMARKS.md.

use std::process::Command;

use crate::{cargo, ensure_wasm_target, root, run, target_dir};

/// Builds what the benchmarks measure (in release: a debug Ferry would measure the
/// compiler, not Ferry) and runs them with the user's arguments.
pub fn bench(args: &[String]) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let mut host = cargo();
    host.args(["build", "--release", "-p", "ferry"]);
    run(host)?;
    // Only the components the scenarios use (the SQL and LDAP connectors, and the test
    // fixture the per-call benchmark calls): another connector's work in progress must
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
        "-p",
        "generic-ldap",
        "-p",
        "fixture-misbehave",
    ]);
    run(plugin)?;
    let per_call = wants(args, "per-call");
    if per_call {
        run(per_call_bench(args))?;
    }
    let mut bench = cargo();
    bench
        .args(["run", "--release", "-p", "ferry-bench", "--", "--ferry"])
        .arg(target_dir().join("release/ferry"))
        .arg("--plugin")
        .arg(target_dir().join("wasm32-wasip2/plugin/generic_sql.wasm"))
        .arg("--ldap-plugin")
        .arg(target_dir().join("wasm32-wasip2/plugin/generic_ldap.wasm"))
        .arg("--out")
        .arg(root().join("bench/results"))
        .args(args.iter().filter(|a| *a != "--"));
    if per_call {
        bench.arg("--criterion").arg(target_dir().join("criterion"));
    }
    run(bench)
}

/// The value given to `flag` in the user's arguments.
fn value_of<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).map(String::as_str)
}

/// Whether `--only` (a substring of scenario names, as ferry-bench reads it) keeps
/// `scenario`.
fn wants(args: &[String], scenario: &str) -> bool {
    value_of(args, "--only").is_none_or(|only| scenario.contains(only))
}

/// `cargo bench -p ferry --bench per_call` on the fixture built above; below scale 1,
/// criterion's `--quick` (it stops once its estimate is significant), as every other
/// scenario shrinks too.
fn per_call_bench(args: &[String]) -> Command {
    let mut criterion = cargo();
    criterion
        .args(["bench", "-p", "ferry", "--bench", "per_call", "--"])
        .env(
            "FERRY_BENCH_COMPONENT",
            target_dir().join("wasm32-wasip2/plugin/fixture_misbehave.wasm"),
        );
    let scale = value_of(args, "--scale").and_then(|s| s.parse::<f64>().ok());
    if scale.is_some_and(|s| s < 1.0) {
        criterion.arg("--quick");
    }
    criterion
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_and_scale_shape_the_per_call_run() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(wants(&args(&["--", "--scale", "0.1"]), "per-call"));
        assert!(wants(&args(&["--only", "per"]), "per-call"));
        assert!(!wants(&args(&["--only", "cached-read"]), "per-call"));
        let quick = |a: &[&str]| per_call_bench(&args(a)).get_args().any(|x| x == "--quick");
        assert!(quick(&["--scale", "0.01"]));
        assert!(!quick(&["--scale", "1"]));
        assert!(!quick(&[]));
    }
}
