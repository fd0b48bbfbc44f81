//! `ferry-bench`: Ferry against the physical limit.
//!
//! Every scenario measures Ferry and a reference that does the same work with nothing in
//! between (a `COPY` of the same rows, the same INSERTs from a native client, a bare
//! hyper server), in the same run and on the same data, so that the noise of a shared
//! machine cancels out in the ratio. `cargo xtask bench` builds Ferry and the connector in
//! release and runs this binary; see BENCHMARKS.md.
//!
//! `ferry-bench fixed-server PORT BODY_FILE` is the bare reference server itself, run as
//! its own process as Ferry is, so neither shares a runtime with the load generator.

mod chart;
mod create;
mod ferry;
mod fixed_server;
mod import;
mod large;
mod ldap;
mod load;
mod memory;
mod per_call;
mod read;
mod report;
mod startup;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use report::{Comparison, Figure};

/// What one invocation measures, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The release `ferry` binary.
    pub ferry: PathBuf,
    /// The generic SQL connector component.
    pub plugin: PathBuf,
    /// The generic LDAP connector component (needed by the LDAP scenarios only).
    pub ldap_plugin: PathBuf,
    /// Where `<date>.json` and `<date>.md` go.
    pub out: PathBuf,
    /// Multiplies every default size: 0.1 for a quick look, 0.01 to check it still runs.
    pub scale: f64,
    /// Measurements per scenario and side; the median is reported.
    pub runs: usize,
    /// Run only the scenarios whose name contains this.
    pub only: Option<String>,
    /// Seconds each cached-read measurement lasts.
    pub read_seconds: f64,
    /// Criterion's output folder after `cargo bench -p ferry --bench per_call`, whose
    /// estimates become the per-call rows; without it there are none.
    pub criterion: Option<PathBuf>,
}

impl Options {
    /// Rows in the table (entries in the subtree) the import and read scenarios use
    /// (100k at scale 1).
    pub fn rows(&self) -> u64 {
        scaled(100_000, self.scale)
    }

    /// Users in Ferry's cache for the memory and startup scenarios (1M at scale 1).
    pub fn cached_users(&self) -> u64 {
        scaled(1_000_000, self.scale)
    }

    /// Users each create measurement adds (5k at scale 1).
    pub fn users(&self) -> u64 {
        scaled(5_000, self.scale)
    }

    fn wants(&self, scenario: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|only| scenario.contains(only))
    }

    /// Whether a scenario on PostgreSQL runs (all but the LDAP ones and per-call).
    fn wants_postgres(&self) -> bool {
        [
            "sql-import",
            "cached-read",
            "scim-create-sql",
            "memory",
            "startup",
        ]
        .iter()
        .any(|scenario| self.wants(scenario))
    }

    /// Whether a scenario on slapd runs (and so needs slapd and the LDAP connector).
    fn wants_ldap(&self) -> bool {
        self.wants("ldap-import") || self.wants("scim-create-ldap")
    }
}

/// A default size times the scale, never below a handful so that tiny runs still
/// exercise every step.
fn scaled(default: u64, scale: f64) -> u64 {
    ((default as f64 * scale).round() as u64).max(16)
}

const USAGE: &str = "usage: ferry-bench --ferry BIN --plugin WASM [--ldap-plugin WASM] --out DIR [--scale F] [--runs R] [--only NAME] [--read-seconds S] [--criterion DIR]\n       ferry-bench fixed-server PORT BODY_FILE";

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options {
        ferry: PathBuf::new(),
        plugin: PathBuf::new(),
        ldap_plugin: PathBuf::new(),
        out: PathBuf::new(),
        scale: 1.0,
        runs: 3,
        only: None,
        read_seconds: 5.0,
        criterion: None,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--ferry" => options.ferry = value()?.into(),
            "--plugin" => options.plugin = value()?.into(),
            "--ldap-plugin" => options.ldap_plugin = value()?.into(),
            "--out" => options.out = value()?.into(),
            "--scale" => options.scale = value()?.parse().context("--scale takes a number")?,
            "--runs" => options.runs = value()?.parse().context("--runs takes a count")?,
            "--only" => options.only = Some(value()?.clone()),
            "--criterion" => options.criterion = Some(value()?.into()),
            "--read-seconds" => {
                options.read_seconds = value()?.parse().context("--read-seconds takes a number")?
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    if options.ferry.as_os_str().is_empty()
        || options.plugin.as_os_str().is_empty()
        || options.out.as_os_str().is_empty()
    {
        bail!("--ferry, --plugin and --out are required (cargo xtask bench passes them)\n{USAGE}");
    }
    if options.wants_ldap() && options.ldap_plugin.as_os_str().is_empty() {
        bail!("the LDAP scenarios need --ldap-plugin (or leave them out with --only)\n{USAGE}");
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(options.scale) || options.runs == 0 || !positive(options.read_seconds) {
        bail!("--scale, --runs and --read-seconds must be positive");
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("fixed-server") {
        fixed_server::main(&args[1..])
    } else {
        parse(&args).and_then(bench)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferry-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn bench(options: Options) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if options.wants_postgres() {
        target::check_psql()?;
    }
    let needed = [&options.ferry, &options.plugin]
        .into_iter()
        .chain(options.wants_ldap().then_some(&options.ldap_plugin));
    for file in needed {
        if !file.is_file() {
            bail!("{} does not exist: run `cargo xtask bench`", file.display());
        }
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let postgres = options.wants_postgres().then(|| {
        eprintln!("ferry-bench: starting PostgreSQL");
        ferry_test_support::TempPostgres::start()
    });
    let slapd = options
        .wants_ldap()
        .then(|| ldap::start(options.wants("ldap-import").then(|| options.rows())));
    let work = scratch_dir()?;
    let mut results: Vec<Comparison> = Vec::new();
    let mut figures: Vec<Figure> = Vec::new();
    runtime.block_on(async {
        if let Some(postgres) = &postgres {
            postgres_scenarios(&options, postgres, &work, &mut results, &mut figures).await?;
        }
        if let Some(slapd) = &slapd {
            if options.wants("ldap-import") {
                let ou = ldap::seeded_ou(slapd);
                results.push(import::ldap_import(&options, slapd, &ou, &work).await?);
            }
            if options.wants("scim-create-ldap") {
                results.extend(create::scim_create_ldap(&options, slapd, &work).await?);
            }
        }
        anyhow::Ok(())
    })?;
    if let Some(criterion) = options.criterion.as_deref()
        && options.wants("per-call")
    {
        let (comparisons, absolute) = per_call::results(criterion)?;
        results.extend(comparisons);
        figures.extend(absolute);
    }
    if results.is_empty() && figures.is_empty() {
        bail!(
            "--only {} matches no scenario (sql-import, scim-create-sql, cached-read, \
             ldap-import, scim-create-ldap, memory, startup, per-call)",
            options.only.as_deref().unwrap_or("")
        );
    }
    let written = report::write(&options, &results, &figures)?;
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("ferry-bench: wrote {}", written.display());
    Ok(())
}

/// Runs the scenarios on PostgreSQL that `options` asks for.
async fn postgres_scenarios(
    options: &Options,
    postgres: &ferry_test_support::TempPostgres,
    work: &std::path::Path,
    results: &mut Vec<Comparison>,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    if options.wants("sql-import") {
        let database = target::seeded_database(postgres, options.rows()).await?;
        results.push(import::sql_import(options, postgres, &database, work).await?);
    }
    if options.wants("scim-create-sql") {
        results.extend(create::scim_create_sql(options, postgres, work).await?);
    }
    // Cached reads, memory and startup share one large table (1M users at scale 1):
    // seeding it is the slow part.
    let large = ["cached-read", "memory", "startup"]
        .iter()
        .any(|scenario| options.wants(scenario));
    if large {
        let database = target::seeded_database(postgres, options.cached_users()).await?;
        if options.wants("cached-read") {
            results.extend(read::cached_read(options, postgres, &database, work).await?);
        }
        if options.wants("memory") || options.wants("startup") {
            figures.extend(large::cached_scenarios(options, postgres, &database, work).await?);
        }
    }
    if options.wants("memory") {
        figures.extend(memory::instances(options, postgres, work).await?);
    }
    Ok(())
}

/// A scratch folder for Ferry's configurations, data and logs, kept on failure so the
/// logs can be read.
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("ferry-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The median of some measurements (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn sizes_scale_with_a_floor() {
        assert_eq!(scaled(100_000, 1.0), 100_000);
        assert_eq!(scaled(100_000, 0.1), 10_000);
        assert_eq!(scaled(5_000, 0.001), 16);
    }
}
