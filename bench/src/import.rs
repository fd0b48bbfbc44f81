//! Full import into the cache: Ferry (a connector through the host, from a cold cache)
//! against a client of the target reading the same objects to /dev/null: `psql` copying
//! the rows (`sql-import`), a paged `ldapsearch` of the entries (`ldap-import`).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use ferry_test_support::{TempPostgres, TempSlapd};
use serde_json::json;

use crate::ferry::{Ferry, Scheme};
use crate::report::{Better, Comparison};
use crate::{Options, ldap, median, target};

/// What Ferry's import is compared with.
struct Reference {
    /// How the progress lines call it.
    short: &'static str,
    /// What it is exactly, for the results.
    what: String,
    /// Issue 7's ceiling for Ferry's time over the reference's.
    target: f64,
}

/// SQL: generic-sql on the seeded users table against `psql` COPY.
pub async fn sql_import(
    options: &Options,
    postgres: &TempPostgres,
    database: &str,
    work: &Path,
) -> anyhow::Result<Comparison> {
    let url = postgres.url(database);
    let dir = work.join("import");
    let reference = Reference {
        short: "psql COPY",
        what: "psql COPY (SELECT * FROM users ORDER BY id) TO STDOUT > /dev/null".into(),
        target: 3.0,
    };
    compare(
        options,
        "sql-import",
        format!("{} rows, PostgreSQL", options.rows()),
        reference,
        || target::copy_to_dev_null(postgres, database),
        |count_ops| Ferry::start(options, &dir, &url, Scheme::Https, count_ops),
    )
    .await
}

/// LDAP: generic-ldap on the seeded subtree `ou` against a paged `ldapsearch`.
pub async fn ldap_import(
    options: &Options,
    slapd: &TempSlapd,
    ou: &str,
    work: &Path,
) -> anyhow::Result<Comparison> {
    let dir = work.join("import");
    let reference = Reference {
        short: "ldapsearch",
        what: format!(
            "ldapsearch {} > /dev/null",
            ldap::shown(&ldap::search_arguments(ou))
        ),
        target: 1.25,
    };
    compare(
        options,
        "ldap-import",
        format!("{} entries, OpenLDAP", options.rows()),
        reference,
        || ldap::search_to_dev_null(slapd, ou),
        |count_ops| Ferry::start_ldap(options, &dir, slapd, ou, Scheme::Https, count_ops),
    )
    .await
}

/// Runs an import scenario `options.runs` times: one untimed round of each side first
/// (the target's data in memory on both paths), then the sides alternate which goes
/// first so that a warm cache favours neither. `start` starts Ferry with an empty data
/// folder, so every import fills an empty cache, counting the connector's WebAssembly
/// operators when given `true`: the untimed round counts them (counting slows the
/// connector), for a figure of the connector's work that the machine's load does not
/// move.
async fn compare(
    options: &Options,
    scenario: &str,
    case: String,
    reference: Reference,
    read_natively: impl Fn() -> anyhow::Result<Duration>,
    start: impl Fn(bool) -> anyhow::Result<Ferry>,
) -> anyhow::Result<Comparison> {
    let mut imports = Vec::new();
    let mut serving = Vec::new();
    let mut natives = Vec::new();
    read_natively()?;
    let ops_per_object = {
        let mut ferry = start(true)?;
        ferry.ready().await?;
        ferry.logged_ops().with_context(|| {
            format!(
                "no `full import counted … per_object=` in the log:\n{}",
                ferry.log()
            )
        })?
    };
    eprintln!(
        "ferry-bench: {scenario}: the connector executed {ops_per_object} WebAssembly \
         operators per object (counted in the untimed first import)"
    );
    for run in 1..=options.runs {
        let native_first = run % 2 == 1;
        if native_first {
            natives.push(millis(read_natively()?));
        }
        let (import, ready) = ferry_import(&start).await?;
        imports.push(millis(import));
        serving.push(millis(ready));
        if !native_first {
            natives.push(millis(read_natively()?));
        }
        eprintln!(
            "ferry-bench: {scenario} run {run}: ferry import {:.0} ms (serving {:.0} ms after \
             start), {} {:.0} ms",
            imports[run - 1],
            serving[run - 1],
            reference.short,
            natives[run - 1]
        );
    }
    let serving_median = median(&serving);
    Ok(Comparison {
        scenario: scenario.into(),
        case,
        unit: "ms",
        better: Better::Lower,
        ferry: imports,
        reference: natives,
        reference_name: reference.what,
        target: Some(reference.target),
        extra: json!({
            "rows": options.rows(),
            "ferry_start_to_serving_ms": serving,
            "ferry_start_to_serving_median_ms": serving_median,
            "connector_wasm_ops_per_object": ops_per_object,
        }),
    })
}

/// One cold start of Ferry: (the import as Ferry logged it, spawn to serving reads).
async fn ferry_import(
    start: &impl Fn(bool) -> anyhow::Result<Ferry>,
) -> anyhow::Result<(Duration, Duration)> {
    let mut ferry = start(false)?;
    let ready = ferry.ready().await?;
    Ok((ferry.logged_import()?, ready))
}

/// A duration in milliseconds, as the results carry it.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
