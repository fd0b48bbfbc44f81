//! The contract's errors, built in one place so every failure carries the kind the host
//! acts on (retry, SCIM status) and a message an operator can follow.

use crate::ferry::connector::sql::{SqlError, SqlErrorKind};
use crate::ferry::connector::types::{Error, ErrorKind};

/// An error of `kind` about no attribute in particular.
pub fn error(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error {
        kind,
        message: message.into(),
        attribute: None,
    }
}

/// A bad setting or request: permanent, SCIM 400.
pub fn invalid_input(message: impl Into<String>) -> Error {
    error(ErrorKind::InvalidInput, message)
}

/// A request that names or writes an attribute it may not: permanent, SCIM 400, with the
/// attribute named so the IdP's provisioning log points at the mapping to fix.
pub fn invalid_attribute(attribute: &str, message: impl Into<String>) -> Error {
    Error {
        attribute: Some(attribute.to_owned()),
        ..invalid_input(message)
    }
}

/// An answer from the database the connector cannot make sense of: a bug or a schema
/// that changed under the session.
pub fn internal(message: impl Into<String>) -> Error {
    error(ErrorKind::Internal, message)
}

/// What the configuration or this connector cannot do at all.
pub fn unsupported(message: impl Into<String>) -> Error {
    error(ErrorKind::Unsupported, message)
}

/// A failed statement as a contract error: `context` says what the connector was doing,
/// the kind follows the database's reason so the host retries only what may succeed
/// later, and a syntax error is called a configuration mistake, because the connector
/// writes correct SQL for the names it was configured with.
pub fn from_sql(context: &str, failure: SqlError) -> Error {
    let SqlError { kind, message } = failure;
    let (kind, message) = match kind {
        SqlErrorKind::UniqueViolation => {
            (ErrorKind::AlreadyExists, format!("{context}: {message}"))
        }
        SqlErrorKind::ConstraintViolation | SqlErrorKind::InvalidValue => {
            (ErrorKind::InvalidInput, format!("{context}: {message}"))
        }
        SqlErrorKind::Unavailable | SqlErrorKind::Timeout => {
            (ErrorKind::Unavailable, format!("{context}: {message}"))
        }
        SqlErrorKind::Syntax => (
            ErrorKind::Internal,
            format!(
                "{context}: the database refused the statement ({message}); this is a \
                 configuration mistake: check the table, column and statement names in the \
                 app's object-types"
            ),
        ),
        SqlErrorKind::TransactionState | SqlErrorKind::TooLarge | SqlErrorKind::Other => {
            (ErrorKind::Internal, format!("{context}: {message}"))
        }
    };
    error(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_for(kind: SqlErrorKind) -> ErrorKind {
        from_sql(
            "adding user",
            SqlError {
                kind,
                message: "boom".into(),
            },
        )
        .kind
    }

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
            assert_eq!(kind_for(sql), contract, "{sql:?}");
        }
    }

    #[test]
    fn a_syntax_error_is_reported_as_a_configuration_mistake() {
        let failure = from_sql(
            "reading user",
            SqlError {
                kind: SqlErrorKind::Syntax,
                message: "no such column: mail".into(),
            },
        );
        assert!(failure.message.starts_with("reading user: "));
        assert!(failure.message.contains("no such column: mail"));
        assert!(failure.message.contains("configuration mistake"));
    }
}
