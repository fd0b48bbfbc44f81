//! SQL full import into the cache: Ferry (generic-sql through the host, from a cold cache)
//! against `psql` copying the same rows to /dev/null.

use std::path::Path;
use std::time::Duration;

use ferry_test_support::TempPostgres;
use serde_json::json;

use crate::ferry::{Ferry, Scheme};
use crate::report::{Better, Comparison};
use crate::{Options, median, target};

/// Runs the scenario `options.runs` times, alternating which side goes first so that a
/// warm page cache favours neither.
pub async fn sql_import(
    options: &Options,
    postgres: &TempPostgres,
    database: &str,
    work: &Path,
) -> anyhow::Result<Comparison> {
    let rows = options.rows();
    let url = postgres.url(database);
    let mut imports = Vec::new();
    let mut serving = Vec::new();
    let mut copies = Vec::new();
    let dir = work.join("import");
    // One untimed round first: the table's pages into memory on both paths.
    target::copy_to_dev_null(postgres, database)?;
    ferry_import(options, &dir, &url).await?;
    for run in 1..=options.runs {
        let copy_first = run % 2 == 1;
        if copy_first {
            copies.push(millis(target::copy_to_dev_null(postgres, database)?));
        }
        let (import, ready) = ferry_import(options, &dir, &url).await?;
        imports.push(millis(import));
        serving.push(millis(ready));
        if !copy_first {
            copies.push(millis(target::copy_to_dev_null(postgres, database)?));
        }
        eprintln!(
            "ferry-bench: sql-import run {run}: ferry import {:.0} ms (serving {:.0} ms after \
             start), psql COPY {:.0} ms",
            imports[run - 1],
            serving[run - 1],
            copies[run - 1]
        );
    }
    let serving_median = median(&serving);
    Ok(Comparison {
        scenario: "sql-import".into(),
        case: format!("{rows} rows, PostgreSQL"),
        unit: "ms",
        better: Better::Lower,
        ferry: imports,
        reference: copies,
        reference_name: "psql COPY (SELECT * FROM users ORDER BY id) TO STDOUT > /dev/null".into(),
        target: Some(3.0),
        extra: json!({
            "rows": rows,
            "ferry_start_to_serving_ms": serving,
            "ferry_start_to_serving_median_ms": serving_median,
        }),
    })
}

/// One cold start of Ferry: (the import as Ferry logged it, spawn to serving reads).
async fn ferry_import(
    options: &Options,
    dir: &Path,
    url: &str,
) -> anyhow::Result<(Duration, Duration)> {
    let mut ferry = Ferry::start(options, dir, url, Scheme::Https)?;
    let ready = ferry.ready().await?;
    Ok((ferry.logged_import()?, ready))
}

/// A duration in milliseconds, as the results carry it.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
