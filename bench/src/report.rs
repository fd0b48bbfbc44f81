//! The results: `bench/results/<date>.json` (every measurement), `<date>.md` (the
//! summary a reader wants), `<date>.svg` (its chart) and the "latest results" link in
//! BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use serde_json::{Value, json};

use crate::chart::{self, Bar};
use crate::{Options, median};

/// Which way a figure improves, so a ratio can be held against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Durations: Ferry should take at most `target` times the reference's.
    Lower,
    /// Rates: Ferry should reach at least `target` times the reference's.
    Higher,
}

/// One scenario case: Ferry's measurements and the reference's, in the same unit.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The scenario's name (what `--only` matches).
    pub scenario: String,
    /// Size, concurrency, transport.
    pub case: String,
    /// The unit of every measurement.
    pub unit: &'static str,
    /// Which way is better.
    pub better: Better,
    /// Ferry's measurements, one per run.
    pub ferry: Vec<f64>,
    /// The reference's measurements, one per run.
    pub reference: Vec<f64>,
    /// What the reference is, exactly.
    pub reference_name: String,
    /// The ratio issue 7 holds Ferry to (ceiling for durations, floor for rates).
    pub target: Option<f64>,
    /// Scenario-specific figures (latencies, start-to-serving times).
    pub extra: Value,
}

impl Comparison {
    /// Ferry's median over the reference's median.
    pub fn ratio(&self) -> f64 {
        median(&self.ferry) / median(&self.reference)
    }

    /// Whether the ratio meets the target (None without one).
    pub fn meets_target(&self) -> Option<bool> {
        let ratio = self.ratio();
        self.target.map(|t| match self.better {
            Better::Lower => ratio <= t,
            Better::Higher => ratio >= t,
        })
    }

    /// Its bar in the chart, when it has a target.
    fn bar(&self) -> Option<Bar> {
        Some(Bar {
            label: format!("{}: {}", self.scenario, self.case),
            value: self.ratio(),
            target: self.target?,
            met: self.meets_target()?,
        })
    }

    fn target_text(&self) -> String {
        match (self.target, self.better) {
            (Some(t), Better::Lower) => format!("≤ {t}×"),
            (Some(t), Better::Higher) => format!("≥ {t}×"),
            (None, _) => "—".into(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "case": self.case,
            "unit": self.unit,
            "better": match self.better { Better::Lower => "lower", Better::Higher => "higher" },
            "ferry": {"runs": self.ferry, "median": median(&self.ferry)},
            "reference": {"what": self.reference_name, "runs": self.reference, "median": median(&self.reference)},
            "ratio": self.ratio(),
            "target": self.target,
            "meets_target": self.meets_target(),
            "details": self.extra,
        })
    }
}

/// An absolute figure (memory, startup time): nothing else does the same work, so there
/// is no reference to divide by; it is held against issue 7's ceiling when it sets one.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The scenario's name (what `--only` matches).
    pub scenario: String,
    /// Size, state, what is timed.
    pub case: String,
    /// The unit of every measurement.
    pub unit: &'static str,
    /// The measurements, one per run.
    pub values: Vec<f64>,
    /// What is measured, exactly.
    pub what: String,
    /// The most issue 7 allows, in `unit`.
    pub ceiling: Option<f64>,
    /// Scenario-specific figures.
    pub extra: Value,
}

impl Figure {
    /// Whether the median stays within the ceiling (None without one).
    pub fn meets_ceiling(&self) -> Option<bool> {
        self.ceiling.map(|c| median(&self.values) <= c)
    }

    /// Its bar in the chart (the median over the ceiling), when it has a ceiling.
    fn bar(&self) -> Option<Bar> {
        let ceiling = self.ceiling?;
        Some(Bar {
            label: format!("{}: {}", self.scenario, self.case),
            value: median(&self.values) / ceiling,
            target: 1.0,
            met: self.meets_ceiling()?,
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "case": self.case,
            "unit": self.unit,
            "what": self.what,
            "runs": self.values,
            "median": median(&self.values),
            "ceiling": self.ceiling,
            "meets_ceiling": self.meets_ceiling(),
            "details": self.extra,
        })
    }
}

/// A target's verdict as the summary shows it.
fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "—",
    }
}

/// What the figures were measured on.
struct Machine {
    cores: usize,
    cpu: String,
    load_average: String,
    commit: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
            .map_or_else(|| "unknown".into(), |(_, name)| name.trim().to_string());
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
        let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
        Machine {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu,
            load_average,
            commit: if dirty {
                format!("{commit} with uncommitted changes")
            } else {
                commit
            },
        }
    }
}

/// Writes `<date>.json`, `<date>.md` and `<date>.svg` into `options.out`, points
/// BENCHMARKS.md's latest-results link at the summary, and returns the summary's path.
pub fn write(
    options: &Options,
    results: &[Comparison],
    figures: &[Figure],
) -> anyhow::Result<PathBuf> {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour][minute][second]Z"
    ))?;
    let machine = Machine::read();
    std::fs::create_dir_all(&options.out)?;
    let parameters = json!({
        "scale": options.scale,
        "runs": options.runs,
        "only": options.only,
        "rows": options.rows(),
        "users_per_create_measurement": options.users(),
        "read_seconds": options.read_seconds,
    });
    let document = json!({
        "date": stamp,
        "machine": {
            "cores": machine.cores,
            "cpu": machine.cpu,
            "load_average_at_end": machine.load_average,
            "ferry_commit": machine.commit,
        },
        "parameters": parameters,
        "results": results.iter().map(Comparison::to_json).collect::<Vec<_>>(),
        "figures": figures.iter().map(Figure::to_json).collect::<Vec<_>>(),
    });
    let json_path = options.out.join(format!("{stamp}.json"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&document)? + "\n")?;
    let bars: Vec<Bar> = results
        .iter()
        .filter_map(Comparison::bar)
        .chain(figures.iter().filter_map(Figure::bar))
        .collect();
    chart::write(
        &options.out.join(format!("{stamp}.svg")),
        &format!("Ferry benchmarks, {stamp}: each case against its target"),
        &bars,
    )?;
    let md_path = options.out.join(format!("{stamp}.md"));
    std::fs::write(
        &md_path,
        summary(&stamp, &machine, options, results, figures),
    )?;
    link_latest(&options.out, &stamp)?;
    Ok(md_path)
}

/// A figure to three significant digits (whole numbers from 100 up), so that a ratio
/// of 0.0003 does not print as 0.00.
fn figure(value: f64) -> String {
    if !value.is_finite() || value == 0.0 || value.abs() >= 100.0 {
        return format!("{value:.0}");
    }
    let decimals = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    format!("{value:.decimals$}")
}

fn summary(
    stamp: &str,
    machine: &Machine,
    options: &Options,
    results: &[Comparison],
    figures: &[Figure],
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Ferry benchmarks, {stamp}\n");
    let _ = writeln!(
        md,
        "{} cores ({}), load average {} when the run ended; Ferry {}. Scale {}, {} run(s) per \
         figure, medians shown. Every ratio is Ferry over a reference measured in the same run \
         on the same data; the absolute figures are noisy on a shared machine, the ratios much \
         less so.\n",
        machine.cores,
        machine.cpu,
        machine.load_average,
        machine.commit,
        options.scale,
        options.runs
    );
    let _ = writeln!(md, "![Each case against its target]({stamp}.svg)\n");
    if !results.is_empty() {
        md.push_str("| scenario | case | Ferry | reference | Ferry / reference | target | met |\n");
        md.push_str("|---|---|---|---|---|---|---|\n");
    }
    for c in results {
        let _ = writeln!(
            md,
            "| {} | {} | {} {} | {} {} | {}× | {} | {} |",
            c.scenario,
            c.case,
            figure(median(&c.ferry)),
            c.unit,
            figure(median(&c.reference)),
            c.unit,
            figure(c.ratio()),
            c.target_text(),
            verdict(c.meets_target())
        );
    }
    if !figures.is_empty() {
        md.push_str(
            "\nAbsolute figures, held against issue 7's ceilings where it sets one:\n\n\
             | scenario | case | median | per run | ceiling | met |\n|---|---|---|---|---|---|\n",
        );
    }
    for f in figures {
        let _ = writeln!(
            md,
            "| {} | {} | {} {} | {} | {} | {} |",
            f.scenario,
            f.case,
            figure(median(&f.values)),
            f.unit,
            runs(&f.values),
            f.ceiling
                .map_or_else(|| "—".into(), |c| format!("≤ {} {}", figure(c), f.unit)),
            verdict(f.meets_ceiling())
        );
    }
    md.push_str("\n## Details\n\n");
    for c in results {
        let _ = writeln!(md, "### {}: {}\n", c.scenario, c.case);
        let _ = writeln!(md, "* Ferry, per run ({}): {}", c.unit, runs(&c.ferry));
        let _ = writeln!(md, "* reference: {}", c.reference_name);
        let _ = writeln!(
            md,
            "* reference, per run ({}): {}",
            c.unit,
            runs(&c.reference)
        );
        details(&mut md, &c.extra);
    }
    for f in figures {
        let _ = writeln!(md, "### {}: {}\n", f.scenario, f.case);
        let _ = writeln!(md, "* what: {}", f.what);
        let _ = writeln!(md, "* per run ({}): {}", f.unit, runs(&f.values));
        details(&mut md, &f.extra);
    }
    md
}

/// Measurements as the summary lists them.
fn runs(values: &[f64]) -> String {
    values
        .iter()
        .map(|x| figure(*x))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A case's scenario-specific figures, one line each, and the blank line ending it.
fn details(md: &mut String, extra: &Value) {
    if let Value::Object(extra) = extra {
        for (key, value) in extra {
            let _ = writeln!(md, "* {key}: {}", shown(value));
        }
    }
    md.push('\n');
}

/// A JSON value as the summary shows it: numbers rounded, arrays inline.
fn shown(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), figure),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The markers around the latest-results link in BENCHMARKS.md.
const LATEST: (&str, &str) = ("<!-- latest-results -->", "<!-- /latest-results -->");

/// Points the link between BENCHMARKS.md's markers at `results/<stamp>.md`, when
/// BENCHMARKS.md sits beside the results folder's parent (the workspace root).
fn link_latest(out: &Path, stamp: &str) -> anyhow::Result<()> {
    let Some(root) = out.parent().and_then(Path::parent) else {
        return Ok(());
    };
    let path = root.join("BENCHMARKS.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let (Some(start), Some(end)) = (text.find(LATEST.0), text.find(LATEST.1)) else {
        return Ok(());
    };
    let relative = out.strip_prefix(root).unwrap_or(out).display().to_string();
    let link = format!(
        "{}\nLatest results: [{relative}/{stamp}.md]({relative}/{stamp}.md) \
         ([JSON]({relative}/{stamp}.json), [chart]({relative}/{stamp}.svg)).\n",
        LATEST.0
    );
    let updated = format!("{}{link}{}", &text[..start], &text[end..]);
    std::fs::write(&path, updated).context("updating BENCHMARKS.md")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_keep_three_significant_digits() {
        assert_eq!(figure(65.95), "66.0");
        assert_eq!(figure(0.000314), "0.000314");
        assert_eq!(figure(1.4), "1.40");
        assert_eq!(figure(20235.4), "20235");
        assert_eq!(figure(0.0), "0");
    }
}
