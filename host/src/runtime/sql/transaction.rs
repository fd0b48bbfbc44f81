//! The transaction state of a connection, kept by the host rather than trusted to the
//! connector.
//!
//! The host rolls back whatever a connector leaves open when an export returns, and the
//! pool hands the connection to the next session, so [`SqlConnection::in_transaction`]
//! must be true exactly when a transaction is open. Hence:
//! * transaction boundaries only through `begin` / `commit` / `rollback`: `BEGIN`,
//!   `COMMIT` and friends sent as statements are refused;
//! * savepoints only inside such a transaction (a SQLite `SAVEPOINT` outside one would
//!   open a transaction nobody knows about);
//! * one model for both dialects, PostgreSQL's: a failed statement fails the
//!   transaction; only `rollback` (or `ROLLBACK TO` a savepoint) goes on from there, and
//!   `commit` of a failed transaction rolls it back and says so. A connector written
//!   against SQLite then behaves the same on PostgreSQL.
//!
//! [`SqlConnection::in_transaction`]: super::SqlConnection::in_transaction

use super::{SqlError, SqlErrorKind};

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TxState {
    /// No transaction: every statement commits on its own.
    Idle,
    /// Inside a transaction opened with `begin`.
    Open,
    /// Inside a transaction in which a statement failed.
    Failed,
}

/// What a statement does to the transaction, judged by its first words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Control {
    /// `BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK`, `ABORT`,
    /// `PREPARE TRANSACTION`: only `begin` / `commit` / `rollback` may do that.
    Boundary,
    /// `SAVEPOINT`, `RELEASE`: fine inside a transaction.
    Savepoint,
    /// `ROLLBACK [WORK | TRANSACTION] TO ...`: recovers a failed transaction.
    RollbackTo,
    /// Anything else.
    None,
}

impl TxState {
    /// Whether a statement doing `control` may run now.
    pub(super) fn check(self, control: Control) -> Result<(), SqlError> {
        let refusal = match (control, self) {
            (Control::Boundary, _) => {
                "transaction control statements are refused: use begin, commit and rollback"
            }
            (Control::Savepoint | Control::RollbackTo, TxState::Idle) => {
                "savepoints need a transaction opened with begin"
            }
            (Control::RollbackTo, _) | (_, TxState::Idle | TxState::Open) => return Ok(()),
            (_, TxState::Failed) => {
                "the transaction failed at an earlier statement: roll it back (or ROLLBACK TO a savepoint)"
            }
        };
        Err(SqlError::new(SqlErrorKind::TransactionState, refusal))
    }

    /// The state after a statement doing `control` ran, successfully or not.
    pub(super) fn after(self, control: Control, succeeded: bool) -> TxState {
        match (self, succeeded) {
            (TxState::Idle, _) => TxState::Idle,
            (_, false) => TxState::Failed,
            (TxState::Failed, true) if control != Control::RollbackTo => TxState::Failed,
            (_, true) => TxState::Open,
        }
    }
}

/// What `statement` does to the transaction. Leading white space and comments are
/// skipped; keywords are compared without regard to case.
pub(super) fn classify(statement: &str) -> Control {
    let mut words = Words(statement);
    match words.next().as_deref() {
        Some("BEGIN" | "START" | "COMMIT" | "END" | "ABORT") => Control::Boundary,
        Some("SAVEPOINT" | "RELEASE") => Control::Savepoint,
        Some("PREPARE") if words.next().as_deref() == Some("TRANSACTION") => Control::Boundary,
        Some("ROLLBACK") => {
            let mut next = words.next();
            if matches!(next.as_deref(), Some("WORK" | "TRANSACTION")) {
                next = words.next();
            }
            if next.as_deref() == Some("TO") {
                Control::RollbackTo
            } else {
                Control::Boundary
            }
        }
        _ => Control::None,
    }
}

/// The leading keywords of a statement, upper-cased, stopping at the first thing that is
/// not a word, white space or a comment.
struct Words<'a>(&'a str);

impl Iterator for Words<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            let rest = self.0.trim_start();
            if let Some(comment) = rest.strip_prefix("--") {
                self.0 = comment.split_once('\n').map_or("", |(_, after)| after);
            } else if let Some(comment) = rest.strip_prefix("/*") {
                self.0 = comment.split_once("*/").map_or("", |(_, after)| after);
            } else {
                let end = rest
                    .find(|c: char| !c.is_ascii_alphabetic())
                    .unwrap_or(rest.len());
                self.0 = &rest[end..];
                return (end > 0).then(|| rest[..end].to_ascii_uppercase());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_transaction_control() {
        for statement in [
            "BEGIN",
            "begin immediate",
            "  -- hi\n/* there */ COMMIT;",
            "START TRANSACTION",
            "end",
            "abort",
            "rollback",
            "ROLLBACK WORK",
            "PREPARE TRANSACTION 'x'",
        ] {
            assert_eq!(classify(statement), Control::Boundary, "{statement}");
        }
        assert_eq!(classify("SAVEPOINT a"), Control::Savepoint);
        assert_eq!(classify("release a"), Control::Savepoint);
        assert_eq!(classify("ROLLBACK TO a"), Control::RollbackTo);
        assert_eq!(
            classify("rollback transaction to savepoint a"),
            Control::RollbackTo
        );
        for statement in [
            "SELECT 1",
            "PREPARE q AS SELECT 1",
            "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END",
            "DO $$ BEGIN END $$",
            "",
            "-- only a comment",
        ] {
            assert_eq!(classify(statement), Control::None, "{statement}");
        }
    }

    #[test]
    fn a_failed_statement_fails_the_transaction_until_rolled_back_to_a_savepoint() {
        let failed = TxState::Open.after(Control::None, false);
        assert_eq!(failed, TxState::Failed);
        assert!(failed.check(Control::None).is_err());
        assert!(failed.check(Control::RollbackTo).is_ok());
        assert_eq!(failed.after(Control::None, true), TxState::Failed);
        assert_eq!(failed.after(Control::RollbackTo, true), TxState::Open);
        assert_eq!(TxState::Idle.after(Control::None, false), TxState::Idle);
        assert!(TxState::Idle.check(Control::Savepoint).is_err());
        assert!(TxState::Open.check(Control::Savepoint).is_ok());
    }
}
