//! Per-call overhead, from criterion: `cargo xtask bench` runs the host's `per_call`
//! benchmark (host/benches/per_call.rs) and passes criterion's output folder as
//! `--criterion`; this reads the estimates criterion wrote there and makes a report row
//! of each benchmark pair, Ferry's figure over its native reference's, and an absolute
//! figure of each held against issue 7's ceiling per call.

use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use crate::report::{Better, Comparison, Figure};

/// One report row: the criterion ids (`group/function`, as host/benches/per_call.rs
/// names them) of Ferry's benchmark and its reference, and issue 7's target.
struct Row {
    case: &'static str,
    ferry: &'static str,
    reference: &'static str,
    reference_name: &'static str,
    /// Issue 7's target, an absolute ceiling per call rather than a ratio.
    target_us: f64,
    /// Another of Ferry's benchmarks reported beside, under this name.
    beside: Option<(&'static str, &'static str)>,
}

const ROWS: &[Row] = &[
    Row {
        case: "no-op export through an app's pool (fixture-misbehave, session.test-connection)",
        ferry: "noop-call/ferry-pool",
        reference: "noop-call/native",
        reference_name: "the same no-op connector in native Rust, its async test_connection \
                         awaited in the same loop",
        target_us: 20.0,
        beside: Some((
            "ferry_same_call_without_the_pool_median_us",
            "noop-call/ferry-instance",
        )),
    },
    Row {
        case: "instantiation as an app's pool grows to its default 4 (fixture-misbehave, \
               store set up under the app's grants)",
        ferry: "instantiate/ferry",
        reference: "instantiate/native",
        reference_name: "the same connector in native Rust opening as many sessions: each \
                         one's state, with a copy of the settings, on the heap",
        target_us: 100.0,
        beside: Some((
            "ferry_instantiated_and_dropped_median_us",
            "instantiate/ferry-and-drop",
        )),
    },
];

/// What criterion estimated for one benchmark, in µs per call.
struct Estimates {
    median: f64,
    median_interval: [f64; 2],
    mean: f64,
}

impl Estimates {
    /// Reads `<criterion>/<id>/new/estimates.json` (criterion writes nanoseconds).
    fn read(criterion: &Path, id: &str) -> anyhow::Result<Self> {
        let path = criterion.join(id).join("new/estimates.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {}: run `cargo bench -p ferry --bench per_call` first",
                path.display()
            )
        })?;
        let json: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let micros = |keys: &[&str]| {
            keys.iter()
                .fold(&json, |value, key| &value[key])
                .as_f64()
                .map(|nanos| nanos / 1000.0)
                .with_context(|| format!("{} has no {}", path.display(), keys.join(".")))
        };
        let interval = |bound| micros(&["median", "confidence_interval", bound]);
        Ok(Self {
            median: micros(&["median", "point_estimate"])?,
            median_interval: [interval("lower_bound")?, interval("upper_bound")?],
            mean: micros(&["mean", "point_estimate"])?,
        })
    }
}

/// The per-call rows, from the estimates in `criterion` (criterion's output folder): each
/// benchmark against its native reference, and its median against the ceiling.
pub fn results(criterion: &Path) -> anyhow::Result<(Vec<Comparison>, Vec<Figure>)> {
    ROWS.iter()
        .map(|row| {
            let ferry = Estimates::read(criterion, row.ferry)?;
            let reference = Estimates::read(criterion, row.reference)?;
            let mut extra = json!({
                "statistic": "criterion's median µs per call, its 95% interval and mean beside",
                "ferry_median_interval_us": ferry.median_interval,
                "ferry_mean_us": ferry.mean,
                "reference_mean_us": reference.mean,
            });
            if let Some((name, id)) = row.beside {
                extra[name] = json!(Estimates::read(criterion, id)?.median);
            }
            eprintln!(
                "ferry-bench: per-call {}: ferry {:.2} µs, reference {:.4} µs",
                row.ferry, ferry.median, reference.median
            );
            let absolute = Figure {
                scenario: "per-call".into(),
                case: row.case.into(),
                unit: "µs",
                values: vec![ferry.median],
                what: "criterion's median per call (the same figure as the comparison's)".into(),
                ceiling: Some(row.target_us),
                extra: json!({}),
            };
            let comparison = Comparison {
                scenario: "per-call".into(),
                case: row.case.into(),
                unit: "µs",
                better: Better::Lower,
                ferry: vec![ferry.median],
                reference: vec![reference.median],
                reference_name: row.reference_name.into(),
                target: None,
                extra,
            };
            Ok((comparison, absolute))
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map(|pairs| pairs.into_iter().unzip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_estimates_in_micros() {
        let dir = std::env::temp_dir().join(format!("ferry-bench-per-call-{}", std::process::id()));
        let estimate = |nanos: f64| {
            json!({"point_estimate": nanos, "confidence_interval":
                {"lower_bound": nanos - 100.0, "upper_bound": nanos + 100.0}})
        };
        for (id, nanos) in [
            ("noop-call/ferry-pool", 5_000.0),
            ("noop-call/ferry-instance", 3_000.0),
            ("noop-call/native", 1_000.0),
            ("instantiate/ferry", 40_000.0),
            ("instantiate/ferry-and-drop", 70_000.0),
            ("instantiate/native", 50.0),
        ] {
            let folder = dir.join(id).join("new");
            std::fs::create_dir_all(&folder).unwrap();
            let json = json!({"median": estimate(nanos), "mean": estimate(nanos + 500.0)});
            std::fs::write(folder.join("estimates.json"), json.to_string()).unwrap();
        }
        let (rows, figures) = results(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].ferry, [5.0]);
        assert_eq!(rows[0].ratio(), 5.0);
        assert_eq!(
            rows[0].extra["ferry_same_call_without_the_pool_median_us"],
            3.0
        );
        assert_eq!(rows[0].extra["ferry_median_interval_us"], json!([4.9, 5.1]));
        assert_eq!(rows[1].extra["ferry_mean_us"], 40.5);
        assert_eq!(
            rows[1].extra["ferry_instantiated_and_dropped_median_us"],
            70.0
        );
        assert_eq!(figures[0].values, [5.0]);
        assert_eq!(figures[0].meets_ceiling(), Some(true));
        assert_eq!(figures[1].values, [40.0]);
        assert_eq!(figures[1].ceiling, Some(100.0));
        assert!(results(&dir).is_err(), "missing estimates are an error");
    }
}
