//! How long a statement may run and how much it may return.

use std::time::Duration;

use super::{Column, SqlError, SqlErrorKind, SqlValue};

/// Per-connection limits, from the app's configuration. A connector is untrusted: one
/// slow or unbounded query must not hold a session or the host's memory hostage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlLimits {
    /// The longest one call (statement, `begin`, `commit`, connecting) may take. After it
    /// the call fails with `Timeout` and the connection is closed.
    pub statement_timeout: Duration,
    /// The most bytes one query may return (payload plus [`VALUE_OVERHEAD`] per value).
    pub max_result_bytes: usize,
    /// The most rows one query may return.
    pub max_rows: usize,
}

/// What one value costs besides its payload once handed to a connector (the canonical
/// ABI's variant slot, a list entry): counted so a million tiny values do not slip under
/// a byte limit that only counts payload.
pub const VALUE_OVERHEAD: usize = 16;

impl Default for SqlLimits {
    /// * 30 s per call: far above a sane single statement against an identity store, and
    ///   well inside the minutes an identity provider waits for a SCIM response, so a
    ///   stuck call frees the session before the request is given up.
    /// * 100,000 rows: imports read pages (a few thousand rows at most), and listing the
    ///   members of a very large group stays possible; more is a missing `LIMIT`.
    /// * 16 MiB: the result is copied into the connector's linear memory, which has its
    ///   own cap; 16 MiB leaves room for the connector to work on it.
    fn default() -> SqlLimits {
        SqlLimits {
            statement_timeout: Duration::from_secs(30),
            max_result_bytes: 16 * 1024 * 1024,
            max_rows: 100_000,
        }
    }
}

/// Counts a result while it is read, so a query that returns too much stops as soon as
/// it crosses a limit instead of after it has been held in memory whole.
pub(super) struct ResultBudget {
    limits: SqlLimits,
    rows: usize,
    bytes: usize,
}

impl ResultBudget {
    /// A budget for a result with `columns`, whose names count too.
    pub(super) fn new(limits: SqlLimits, columns: &[Column]) -> ResultBudget {
        let bytes = columns
            .iter()
            .map(|column| column.name.len() + column.type_name.len() + VALUE_OVERHEAD)
            .sum();
        ResultBudget {
            limits,
            rows: 0,
            bytes,
        }
    }

    /// Takes one more row into account; `TooLarge` once the result crosses a limit.
    pub(super) fn admit(&mut self, row: &[SqlValue]) -> Result<(), SqlError> {
        self.rows += 1;
        if self.rows > self.limits.max_rows {
            return Err(SqlError::new(
                SqlErrorKind::TooLarge,
                format!(
                    "the query returns more than {} rows; read it in pages (LIMIT, or a key range)",
                    self.limits.max_rows
                ),
            ));
        }
        self.bytes += row.iter().map(value_size).sum::<usize>();
        if self.bytes > self.limits.max_result_bytes {
            return Err(SqlError::new(
                SqlErrorKind::TooLarge,
                format!(
                    "the query returns more than {} bytes; read it in pages or select fewer columns",
                    self.limits.max_result_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// What `value` costs a connector to receive.
fn value_size(value: &SqlValue) -> usize {
    VALUE_OVERHEAD
        + match value {
            SqlValue::Text(text) => text.len(),
            SqlValue::Blob(bytes) => bytes.len(),
            _ => 0,
        }
}
