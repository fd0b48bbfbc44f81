//! The host's `sql` capability behind a trait, so connector logic takes a
//! `&dyn Database`: in the component it is [`HostDatabase`] (the app's database, with the
//! drivers in the host); in native tests it is an embedded SQLite that behaves like the
//! host's (`testing::Sqlite`, feature `testing-sqlite`).

use crate::bindings::ferry::connector::sql as host;
pub use crate::bindings::ferry::connector::sql::{
    Column, Dialect, RowSet, SqlError, SqlErrorKind, SqlValue,
};
use crate::types::{Error, ErrorKind};

/// A statement ready to run: text with the dialect's placeholders, and the values bound
/// to them in placeholder order. Values never go into the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text.
    pub text: String,
    /// One value per placeholder (per distinct number, for `?NNN` and `$n`).
    pub params: Vec<SqlValue>,
}

impl Statement {
    /// A statement with these bound values.
    pub fn new(text: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self {
            text: text.into(),
            params,
        }
    }
}

/// The operations of the `sql` capability, one to one.
pub trait Database {
    /// The dialect, which decides placeholders and dialect-specific expressions.
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

/// The app's database, through the `sql` import. Only usable inside the component.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostDatabase;

impl Database for HostDatabase {
    fn dialect(&self) -> Dialect {
        host::database_dialect()
    }

    fn quote_identifier(&self, name: &str) -> String {
        host::quote_identifier(name)
    }

    fn query(&self, statement: &Statement) -> Result<RowSet, SqlError> {
        host::query(&statement.text, &statement.params)
    }

    fn execute(&self, statement: &Statement) -> Result<u64, SqlError> {
        host::execute(&statement.text, &statement.params)
    }

    fn begin(&self) -> Result<(), SqlError> {
        host::begin()
    }

    fn commit(&self) -> Result<(), SqlError> {
        host::commit()
    }

    fn rollback(&self) -> Result<(), SqlError> {
        host::rollback()
    }
}

/// Runs `work` between BEGIN and COMMIT, rolling back when it (or the commit) fails; the
/// failure is what `work` or the commit reported.
pub fn in_transaction<T>(
    db: &dyn Database,
    work: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    db.begin()
        .map_err(|failure| Error::from_sql("starting a transaction", failure))?;
    let outcome = work().and_then(|value| {
        db.commit()
            .map(|()| value)
            .map_err(|failure| Error::from_sql("committing the transaction", failure))
    });
    if outcome.is_err() {
        // The change already failed; a failed rollback adds nothing the host can act on,
        // and the host rolls back whatever is still open when the call returns.
        let _ = db.rollback();
    }
    outcome
}

impl Error {
    /// A failed statement as a contract error: `context` says what the connector was
    /// doing, and the kind follows the database's reason so the host retries only what
    /// may succeed later (a unique violation is `already-exists`, a constraint
    /// `invalid-input`, an unreachable or slow database `unavailable`).
    pub fn from_sql(context: &str, failure: SqlError) -> Self {
        let kind = match failure.kind {
            SqlErrorKind::UniqueViolation => ErrorKind::AlreadyExists,
            SqlErrorKind::ConstraintViolation | SqlErrorKind::InvalidValue => {
                ErrorKind::InvalidInput
            }
            SqlErrorKind::Unavailable | SqlErrorKind::Timeout => ErrorKind::Unavailable,
            SqlErrorKind::Syntax
            | SqlErrorKind::TransactionState
            | SqlErrorKind::TooLarge
            | SqlErrorKind::Other => ErrorKind::Internal,
        };
        Self::new(kind, format!("{context}: {}", failure.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_sql_failure_to_the_kind_the_host_acts_on() {
        use ErrorKind as E;
        use SqlErrorKind as S;
        let expected = [
            (S::UniqueViolation, E::AlreadyExists),
            (S::ConstraintViolation, E::InvalidInput),
            (S::InvalidValue, E::InvalidInput),
            (S::Unavailable, E::Unavailable),
            (S::Timeout, E::Unavailable),
            (S::Syntax, E::Internal),
            (S::TransactionState, E::Internal),
            (S::TooLarge, E::Internal),
            (S::Other, E::Internal),
        ];
        for (sql, contract) in expected {
            let error = Error::from_sql(
                "adding user",
                SqlError {
                    kind: sql,
                    message: "boom".into(),
                },
            );
            assert_eq!(error.kind, contract, "{sql:?}");
            assert_eq!(error.message, "adding user: boom");
        }
    }
}
