//! The `sql` capability played by an embedded SQLite.

use std::rc::Rc;

use rusqlite::Connection;
use rusqlite::types::{Value as Stored, ValueRef};

use crate::sql::{Column, Database, Dialect, RowSet, SqlError, SqlErrorKind, SqlValue, Statement};

/// The `sql` capability for native tests: the same SQLite the host embeds, used the way
/// the host's driver uses it (`?`/`?NNN` placeholders, booleans as 0/1, timestamps
/// written as RFC 3339 text, failures sorted into the contract's kinds). The connection
/// is shared with the test, which sets up tables and checks rows through it.
#[derive(Debug, Clone)]
pub struct Sqlite(Rc<Connection>);

impl Sqlite {
    /// A database over `connection`.
    pub fn new(connection: Rc<Connection>) -> Self {
        Self(connection)
    }
}

impl Database for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn quote_identifier(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    fn query(&self, statement: &Statement) -> Result<RowSet, SqlError> {
        let mut prepared = self.0.prepare(&statement.text).map_err(failure)?;
        let columns: Vec<Column> = prepared
            .column_names()
            .into_iter()
            .map(|name| Column {
                name: name.to_owned(),
                type_name: String::new(),
            })
            .collect();
        let width = columns.len();
        let mut rows = prepared
            .query(rusqlite::params_from_iter(
                statement.params.iter().map(stored),
            ))
            .map_err(failure)?;
        let mut read = Vec::new();
        while let Some(row) = rows.next().map_err(failure)? {
            read.push(
                (0..width)
                    .map(|index| row.get_ref(index).map(value_of))
                    .collect::<Result<_, _>>()
                    .map_err(failure)?,
            );
        }
        Ok(RowSet {
            columns,
            rows: read,
        })
    }

    fn execute(&self, statement: &Statement) -> Result<u64, SqlError> {
        let changed = self
            .0
            .execute(
                &statement.text,
                rusqlite::params_from_iter(statement.params.iter().map(stored)),
            )
            .map_err(failure)?;
        Ok(changed as u64)
    }

    fn begin(&self) -> Result<(), SqlError> {
        self.0.execute_batch("BEGIN").map_err(failure)
    }

    fn commit(&self) -> Result<(), SqlError> {
        self.0.execute_batch("COMMIT").map_err(failure)
    }

    fn rollback(&self) -> Result<(), SqlError> {
        self.0.execute_batch("ROLLBACK").map_err(failure)
    }
}

/// A bound value as SQLite stores it.
fn stored(value: &SqlValue) -> Stored {
    match value {
        SqlValue::Null => Stored::Null,
        SqlValue::Boolean(flag) => Stored::Integer(i64::from(*flag)),
        SqlValue::Integer(number) => Stored::Integer(*number),
        SqlValue::Real(number) => Stored::Real(*number),
        SqlValue::Text(text) => Stored::Text(text.clone()),
        SqlValue::Blob(bytes) => Stored::Blob(bytes.clone()),
        SqlValue::Timestamp(at) => Stored::Text(at.to_rfc3339()),
    }
}

/// A stored value as the host's driver hands it over; text that is not UTF-8 is read
/// lossily, as SQLite's own text functions would.
fn value_of(value: ValueRef) -> SqlValue {
    match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(number) => SqlValue::Integer(number),
        ValueRef::Real(number) => SqlValue::Real(number),
        ValueRef::Text(bytes) => SqlValue::Text(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Blob(bytes) => SqlValue::Blob(bytes.to_vec()),
    }
}

/// A SQLite failure sorted into the contract's kinds, as the host sorts them.
fn failure(error: rusqlite::Error) -> SqlError {
    let kind = match &error {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            match code.extended_code {
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => SqlErrorKind::UniqueViolation,
                _ => SqlErrorKind::ConstraintViolation,
            }
        }
        rusqlite::Error::SqlInputError { .. } => SqlErrorKind::Syntax,
        rusqlite::Error::SqliteFailure(_, Some(message)) if message.starts_with("no such") => {
            SqlErrorKind::Syntax
        }
        _ => SqlErrorKind::Other,
    };
    SqlError {
        kind,
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::in_transaction;
    use crate::types::{Datetime, Error, ErrorKind};

    fn database() -> (Rc<Connection>, Sqlite) {
        let connection = Rc::new(Connection::open_in_memory().unwrap());
        connection
            .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, at TEXT)")
            .unwrap();
        (Rc::clone(&connection), Sqlite::new(connection))
    }

    #[test]
    fn binds_and_reads_values_like_the_host() {
        let (_, db) = database();
        let at = Datetime {
            seconds: 1_714_566_600,
            nanoseconds: 0,
        };
        let insert = Statement::new(
            "INSERT INTO t (name, at) VALUES (?1, ?2) RETURNING id, at",
            vec![SqlValue::Text("a".into()), SqlValue::Timestamp(at)],
        );
        let rows = db.query(&insert).unwrap();
        assert_eq!(rows.columns[1].name, "at");
        assert_eq!(
            rows.rows,
            [[
                SqlValue::Integer(1),
                SqlValue::Text("2024-05-01T12:30:00Z".into())
            ]]
        );
        let again = db.execute(&Statement::new(
            "INSERT INTO t (name) VALUES (?1)",
            vec![SqlValue::Text("a".into())],
        ));
        assert_eq!(again.unwrap_err().kind, SqlErrorKind::UniqueViolation);
        let wrong = db.query(&Statement::new("SELECT nothing FROM t", vec![]));
        assert_eq!(wrong.unwrap_err().kind, SqlErrorKind::Syntax);
        assert_eq!(db.quote_identifier("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn a_failed_transaction_leaves_nothing_behind() {
        let (connection, db) = database();
        let insert = |name: &str| {
            db.execute(&Statement::new(
                "INSERT INTO t (name) VALUES (?1)",
                vec![SqlValue::Text(name.into())],
            ))
            .map_err(|failure| Error::from_sql("adding", failure))
        };
        in_transaction(&db, || insert("kept")).unwrap();
        let failed = in_transaction(&db, || {
            insert("dropped")?;
            insert("kept")
        });
        assert_eq!(failed.unwrap_err().kind, ErrorKind::AlreadyExists);
        let names: Vec<String> = connection
            .prepare("SELECT name FROM t ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(names, ["kept"]);
    }
}
