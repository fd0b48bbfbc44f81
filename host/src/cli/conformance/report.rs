//! The conformance report: one line per check, printed as soon as the check ends so a
//! slow target shows progress, and a summary with the counts. The command's exit code
//! comes from [`Report::failed`].

use crate::cli::print_line;

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The connector did what the contract asks; the text says what was seen (may be empty).
    Pass(String),
    /// It did not; the text says what was expected, what happened, and the connector's
    /// own message when it gave one.
    Fail(String),
    /// The check does not apply to this connector or configuration, or cannot run
    /// because an earlier check failed; the text says which.
    Skip(String),
}

impl From<Result<String, String>> for Outcome {
    /// Checks are written as `Result`s so `?` ends them at the first problem.
    fn from(result: Result<String, String>) -> Self {
        match result {
            Ok(detail) => Outcome::Pass(detail),
            Err(reason) => Outcome::Fail(reason),
        }
    }
}

/// Every check run so far, in order.
#[derive(Debug, Default)]
pub struct Report {
    checks: Vec<(String, Outcome)>,
}

impl Report {
    /// Records a check and prints its line at once.
    pub fn record(&mut self, name: impl Into<String>, outcome: impl Into<Outcome>) {
        let (name, outcome) = (name.into(), outcome.into());
        let (label, text) = match &outcome {
            Outcome::Pass(text) => ("PASS", text),
            Outcome::Fail(text) => ("FAIL", text),
            Outcome::Skip(text) => ("SKIP", text),
        };
        let line = if text.is_empty() {
            format!("{label}  {name}")
        } else {
            format!("{label}  {name} — {text}")
        };
        print_line(&line);
        self.checks.push((name, outcome));
    }

    /// Records `names` as skipped for the same reason (checks that depend on a failed one).
    pub fn skip_all(&mut self, names: &[&str], reason: &str) {
        for name in names {
            self.record(*name, Outcome::Skip(reason.to_owned()));
        }
    }

    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    /// The closing line: how many checks ran, passed, failed and were skipped.
    pub fn summary(&self) -> String {
        format!(
            "{} checks: {} passed, {} failed, {} skipped",
            self.checks.len(),
            self.count(|o| matches!(o, Outcome::Pass(_))),
            self.failed(),
            self.count(|o| matches!(o, Outcome::Skip(_))),
        )
    }

    fn count(&self, which: impl Fn(&Outcome) -> bool) -> usize {
        self.checks.iter().filter(|(_, o)| which(o)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_outcome() {
        let mut report = Report::default();
        report.record("a", Ok::<_, String>("seen".into()));
        report.record("b", Err::<String, _>("wrong".into()));
        report.skip_all(&["c", "d"], "not supported");
        assert_eq!(report.failed(), 1);
        assert_eq!(report.summary(), "4 checks: 1 passed, 1 failed, 2 skipped");
    }
}
