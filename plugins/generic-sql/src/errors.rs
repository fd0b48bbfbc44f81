//! Failed statements as contract errors: the SDK's mapping of the database's reasons to
//! the kinds the host acts on, with one thing only this connector knows added.

use ferry_connector::Error;
use ferry_connector::sql::{SqlError, SqlErrorKind};

/// A failed statement as a contract error: `context` says what the connector was doing.
/// A syntax error is called a configuration mistake, because the connector writes
/// correct SQL for the names it was configured with: a wrong name is the operator's.
pub fn from_sql(context: &str, failure: SqlError) -> Error {
    if failure.kind != SqlErrorKind::Syntax {
        return Error::from_sql(context, failure);
    }
    Error::internal(format!(
        "{context}: the database refused the statement ({}); this is a configuration \
         mistake: check the table, column and statement names in the app's object-types",
        failure.message
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_connector::ErrorKind;

    fn failure(kind: SqlErrorKind, message: &str) -> Error {
        from_sql(
            "reading user",
            SqlError {
                kind,
                message: message.into(),
            },
        )
    }

    #[test]
    fn a_syntax_error_is_reported_as_a_configuration_mistake() {
        let syntax = failure(SqlErrorKind::Syntax, "no such column: mail");
        assert_eq!(syntax.kind, ErrorKind::Internal);
        assert!(syntax.message.starts_with("reading user: "));
        assert!(syntax.message.contains("no such column: mail"));
        assert!(syntax.message.contains("configuration mistake"));
        let unique = failure(SqlErrorKind::UniqueViolation, "boom");
        assert_eq!(
            unique.kind,
            ErrorKind::AlreadyExists,
            "other kinds are the SDK's"
        );
        assert_eq!(unique.message, "reading user: boom");
    }
}
