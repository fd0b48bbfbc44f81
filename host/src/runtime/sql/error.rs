//! Why a statement failed, in kinds a connector can act on.

use std::fmt;

/// The kind of a [`SqlError`]: connectors turn it into SCIM outcomes (a unique violation
/// becomes "already exists", unavailable becomes a retry), so the drivers map every
/// database's codes onto these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlErrorKind {
    /// No connection: refused, closed, broken, or given up after an earlier failure.
    Unavailable,
    /// A unique or primary key constraint refused the row.
    UniqueViolation,
    /// Another constraint (NOT NULL, foreign key, check) refused the row.
    ConstraintViolation,
    /// The statement text is wrong or names something that does not exist.
    Syntax,
    /// A parameter's value does not fit its placeholder or column, or a column cannot be
    /// read into a [`SqlValue`](super::SqlValue).
    InvalidValue,
    /// The statement took longer than the limit, or waited too long for a lock.
    Timeout,
    /// `begin` inside a transaction, `commit` outside one, a statement in a failed
    /// transaction, or transaction control sent as a statement.
    TransactionState,
    /// The result is larger than the host hands to a connector.
    TooLarge,
    /// Anything else.
    Other,
}

/// A failed statement: its kind and the database's message, which never holds the
/// connection's credentials (the connection string is never part of a message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// What went wrong, for the connector to act on.
    pub kind: SqlErrorKind,
    /// The database's (or the host's) explanation, for people.
    pub message: String,
}

impl SqlError {
    /// An error of `kind` with `message`.
    pub fn new(kind: SqlErrorKind, message: impl Into<String>) -> SqlError {
        SqlError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for SqlError {}
