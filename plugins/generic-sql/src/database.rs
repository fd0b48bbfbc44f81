//! The database as the connector's logic sees it. In the component it is the host's `sql`
//! import; in native tests it is a real SQLite. Keeping the logic behind this trait is
//! what lets `cargo test` exercise imports and exports end to end without a host.

use crate::ferry::connector::sql::{Dialect, RowSet, SqlError, SqlValue};

/// A statement ready to run: text with the dialect's placeholders, and the values bound
/// to them in placeholder order. Values never appear in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text.
    pub text: String,
    /// One value per placeholder (per distinct number for `?NNN` / `$n`).
    pub params: Vec<SqlValue>,
}

/// The operations of the `sql` capability the connector uses, one to one.
pub trait Database {
    /// The dialect, which decides placeholders and a few dialect-specific expressions.
    fn dialect(&self) -> Dialect;

    /// An identifier quoted for the dialect; every table and column name goes through it.
    fn quote_identifier(&self, name: &str) -> String;

    /// Runs a statement that returns rows.
    fn query(&self, statement: &Statement) -> Result<RowSet, SqlError>;

    /// Runs a statement that returns no rows; the number of rows it changed.
    fn execute(&self, statement: &Statement) -> Result<u64, SqlError>;

    /// Starts a transaction on the session's connection.
    fn begin(&self) -> Result<(), SqlError>;

    /// Makes the transaction's changes permanent.
    fn commit(&self) -> Result<(), SqlError>;

    /// Undoes the transaction's changes.
    fn rollback(&self) -> Result<(), SqlError>;
}
