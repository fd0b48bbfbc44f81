//! Memory: what `ferry serve` keeps resident (VmRSS, and its peak VmHWM, from
//! /proc/PID/status) with a large cache, and what each connector instance adds, idle and
//! busy. Absolute figures: no other process does the same work to compare with.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use ferry_test_support::TempPostgres;
use serde_json::json;

use crate::create::{User, post_all};
use crate::ferry::{Ferry, Scheme};
use crate::report::Figure;
use crate::{Options, read, target};

/// Issue 7's ceiling for the large cache, in MiB (1 GiB).
const CACHE_CEILING_MIB: f64 = 1024.0;

/// The pool sizes compared: one instance, the default (4) and a large pool. The slope
/// between the smallest and the largest is what one more instance costs.
const POOL_SIZES: [u32; 3] = [1, 4, 16];

/// How often VmRSS is read during the busy load.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// One reading of a process's resident memory, in MiB.
#[derive(Debug, Clone, Copy)]
struct Resident {
    /// VmRSS: resident now.
    rss: f64,
    /// VmHWM: the most ever resident.
    hwm: f64,
}

impl Resident {
    /// Ferry's process as the kernel counts it now.
    fn of(ferry: &Ferry) -> anyhow::Result<Resident> {
        let path = format!("/proc/{}/status", ferry.pid());
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        Ok(Resident {
            rss: mib(&status, "VmRSS").with_context(|| format!("no VmRSS in {path}"))?,
            hwm: mib(&status, "VmHWM").with_context(|| format!("no VmHWM in {path}"))?,
        })
    }
}

/// The value of a `NAME:   1234 kB` line of /proc/PID/status, in MiB.
fn mib(status: &str, name: &str) -> Option<f64> {
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Ferry's memory with `users` cached: right after the full import that filled the
/// cache (`ferry` has just become ready), and after a restart on that cache and one
/// filtered read, as a host runs for months.
pub async fn cache(
    options: &Options,
    ferry: &mut Ferry,
    users: u64,
) -> anyhow::Result<Vec<Figure>> {
    let imported = Resident::of(ferry)?;
    let import_ms = ferry.logged_import()?.as_secs_f64() * 1e3;
    ferry.restart(options)?;
    ferry.ready().await?;
    read::find_one(ferry, users / 2 + 1).await?;
    let restarted = Resident::of(ferry)?;
    eprintln!(
        "ferry-bench: memory with {users} users cached: {:.0} MiB after the import (peak {:.0}), \
         {:.0} MiB after a restart (peak {:.0})",
        imported.rss, imported.hwm, restarted.rss, restarted.hwm
    );
    let figure = |when: &str, at: Resident, extra: serde_json::Value| Figure {
        scenario: "memory".into(),
        case: format!("{users} users cached, {when}"),
        unit: "MiB",
        values: vec![at.rss],
        what: "VmRSS of ferry serve".into(),
        ceiling: Some(CACHE_CEILING_MIB),
        extra,
    };
    Ok(vec![
        figure(
            "after the full import",
            imported,
            json!({"users_cached": users, "vm_hwm_mib": imported.hwm, "import_ms": import_ms}),
        ),
        figure(
            "after a restart and a filtered read",
            restarted,
            json!({"users_cached": users, "vm_hwm_mib": restarted.hwm}),
        ),
    ])
}

/// VmRSS with the app's pool at each size: idle with every instance open (after a load
/// that needed them all), and at its peak during that load (SCIM creates at a
/// concurrency equal to the pool size); then what one more instance adds, from the
/// smallest pool to the largest.
pub async fn instances(
    options: &Options,
    postgres: &TempPostgres,
    work: &Path,
) -> anyhow::Result<Vec<Figure>> {
    let mut idle = vec![Vec::new(); POOL_SIZES.len()];
    let mut busy = vec![Vec::new(); POOL_SIZES.len()];
    let mut connections = vec![Vec::new(); POOL_SIZES.len()];
    for run in 1..=options.runs {
        for (k, &size) in POOL_SIZES.iter().enumerate() {
            let measured = pool(options, postgres, work, size, run).await?;
            eprintln!(
                "ferry-bench: memory run {run}, pool of {size}: {:.0} MiB idle, {:.0} MiB busy, \
                 {} connections to PostgreSQL",
                measured.idle, measured.busy, measured.connections
            );
            idle[k].push(measured.idle);
            busy[k].push(measured.busy);
            connections[k].push(measured.connections);
        }
    }
    let users = options.users();
    let mut figures = Vec::new();
    for (k, size) in POOL_SIZES.iter().enumerate() {
        let figure = |state: &str, values: &[f64], what: &str| Figure {
            scenario: "memory".into(),
            case: format!("pool of {size} generic-sql instance(s), {state}"),
            unit: "MiB",
            values: values.to_vec(),
            what: what.into(),
            ceiling: None,
            extra: json!({
                "instances": size,
                "creates_in_load": users,
                "target_connections_after_load": connections[k],
            }),
        };
        figures.push(figure(
            "idle",
            &idle[k],
            "VmRSS once a load at this concurrency has opened every instance and ended",
        ));
        figures.push(figure(
            "busy",
            &busy[k],
            "peak VmRSS sampled every 20 ms during SCIM creates at a concurrency equal to the pool size",
        ));
    }
    let (first, last) = (0, POOL_SIZES.len() - 1);
    let added = f64::from(POOL_SIZES[last] - POOL_SIZES[first]);
    let per_instance = |series: &[Vec<f64>]| {
        series[last]
            .iter()
            .zip(&series[first])
            .map(|(large, small)| (large - small) / added)
            .collect::<Vec<_>>()
    };
    for (state, series) in [("idle", &idle), ("busy", &busy)] {
        figures.push(Figure {
            scenario: "memory".into(),
            case: format!("per generic-sql instance, {state}"),
            unit: "MiB",
            values: per_instance(series),
            what: format!(
                "(VmRSS with {} instances − with {}) / {added}, {state}",
                POOL_SIZES[last], POOL_SIZES[first]
            ),
            ceiling: None,
            extra: json!({}),
        });
    }
    Ok(figures)
}

/// What one pool size measured.
struct PoolMemory {
    /// VmRSS after the load, MiB.
    idle: f64,
    /// Peak VmRSS during the load, MiB.
    busy: f64,
    /// Connections Ferry holds to the database after the load: one per open session,
    /// so they show how many instances the figures are of.
    connections: i64,
}

/// One Ferry with a pool of `size` on an empty table, loaded with creates.
async fn pool(
    options: &Options,
    postgres: &TempPostgres,
    work: &Path,
    size: u32,
    run: usize,
) -> anyhow::Result<PoolMemory> {
    let database = target::empty_database(postgres).await?;
    let mut ferry = Ferry::start(
        options,
        &work.join("pool"),
        &postgres.url(&database),
        Scheme::Https,
        false,
    )?;
    ferry.ready().await?;
    ferry.set_instances(size)?;
    ferry.restart(options)?;
    ferry.ready().await?;
    let users: Vec<User> = (0..options.users() as usize)
        .map(|i| User::new(&format!("pool{size}r{run}"), i))
        .collect();
    let load = post_all(&ferry, &users, size as usize);
    tokio::pin!(load);
    let mut peak = Resident::of(&ferry)?.rss;
    loop {
        tokio::select! {
            done = &mut load => {
                done?;
                break;
            }
            () = tokio::time::sleep(SAMPLE_EVERY) => peak = peak.max(Resident::of(&ferry)?.rss),
        }
    }
    // The answers are in; let the last responses' buffers go before reading idle memory.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = Resident::of(&ferry)?.rss;
    let connections = target::connect(&postgres.url(&database))
        .await?
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await?
        .get(0);
    Ok(PoolMemory {
        idle,
        busy: peak,
        connections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_status_fields() {
        let status = "Name:\tferry\nVmHWM:\t  2048 kB\nVmRSS:\t   1536 kB\n";
        assert_eq!(mib(status, "VmRSS"), Some(1.5));
        assert_eq!(mib(status, "VmHWM"), Some(2.0));
        assert_eq!(mib(status, "VmSwap"), None);
    }
}
