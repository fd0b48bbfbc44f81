//! SQLite, embedded (rusqlite with its bundled SQLite).
//!
//! SQLite calls block, so each runs on tokio's blocking pool (`spawn_blocking`) against
//! the connection shared as `Arc<Mutex<Connection>>`. A dedicated thread per connection
//! would hold an idle thread for every pooled session; the blocking pool reuses threads
//! and needs no channel protocol. The mutex is never contended in practice, since calls
//! take `&mut self`; it only matters after a timeout, when the call's task still holds
//! the connection until [`SqliteConnection::interrupt`] stops the statement.
//!
//! Mapping: values come back by storage class (INTEGER → `Integer`, REAL → `Real`,
//! TEXT → `Text`, BLOB → `Blob`, NULL → `Null`); `Boolean` binds as 0 or 1 and
//! `Timestamp` as RFC 3339 text in UTC. A column's type name is its declared type ("" for
//! an expression).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{CachedStatement, Connection, ErrorCode, InterruptHandle, OpenFlags, ffi};

use super::limits::ResultBudget;
use super::value::timestamp_to_text;
use super::{
    Column, RowSet, STATEMENT_CACHE_CAPACITY, SqlError, SqlErrorKind, SqlLimits, SqlValue, TxCall,
    parameter_count_mismatch,
};

/// An open SQLite database file.
pub(super) struct SqliteConnection {
    connection: Arc<Mutex<Connection>>,
    interrupt: InterruptHandle,
}

impl SqliteConnection {
    /// Opens `path` read-write. It must exist: creating it would turn a typo in the
    /// configuration into an empty target that every import reads as "no users".
    pub(super) async fn open(path: &Path, limits: SqlLimits) -> Result<SqliteConnection, SqlError> {
        let path = path.to_owned();
        let connection = blocking(move || open(&path, limits)).await?;
        let interrupt = connection.get_interrupt_handle();
        Ok(SqliteConnection {
            connection: Arc::new(Mutex::new(connection)),
            interrupt,
        })
    }

    /// Runs a statement and reads its rows within `limits`.
    pub(super) async fn query(
        &mut self,
        statement: &str,
        params: Vec<SqlValue>,
        limits: SqlLimits,
    ) -> Result<RowSet, SqlError> {
        let statement = statement.to_owned();
        self.run(move |db| query(db, &statement, &params, limits))
            .await
    }

    /// Runs a statement to completion; the rows it changed.
    pub(super) async fn execute(
        &mut self,
        statement: &str,
        params: Vec<SqlValue>,
    ) -> Result<u64, SqlError> {
        let statement = statement.to_owned();
        self.run(move |db| execute(db, &statement, &params)).await
    }

    /// Begins, commits or rolls back. `BEGIN IMMEDIATE` takes the write lock at once, so
    /// concurrent sessions wait for each other (up to the busy timeout) at `begin` rather
    /// than fail with SQLITE_BUSY halfway through. A failed `COMMIT` (a deferred foreign
    /// key, a lock) leaves SQLite's transaction open: it is rolled back, so a transaction
    /// always ends with `commit`, as in PostgreSQL.
    pub(super) async fn transaction(&mut self, call: TxCall) -> Result<(), SqlError> {
        self.run(move |db| {
            let result = match call {
                TxCall::Begin => db.execute_batch("BEGIN IMMEDIATE"),
                TxCall::Commit => db.execute_batch("COMMIT"),
                // SQLite may already have rolled back by itself (after SQLITE_FULL, say).
                TxCall::Rollback if db.is_autocommit() => Ok(()),
                TxCall::Rollback => db.execute_batch("ROLLBACK"),
            };
            if result.is_err() && matches!(call, TxCall::Commit) && !db.is_autocommit() {
                let _ = db.execute_batch("ROLLBACK");
            }
            result.map_err(|error| map_error(error, false))
        })
        .await
    }

    /// Stops the running statement (it fails with SQLITE_INTERRUPT) after a timeout.
    pub(super) fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, SqlError> + Send + 'static,
    ) -> Result<T, SqlError> {
        let connection = Arc::clone(&self.connection);
        blocking(move || work(&connection.lock().unwrap_or_else(PoisonError::into_inner))).await
    }
}

/// Runs blocking SQLite work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SqlError> + Send + 'static,
) -> Result<T, SqlError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|failure| {
            Err(SqlError::new(
                SqlErrorKind::Unavailable,
                format!("the SQLite call failed: {failure}"),
            ))
        })
}

fn open(path: &Path, limits: SqlLimits) -> Result<Connection, SqlError> {
    let unavailable = |error: rusqlite::Error| {
        let message = if path.exists() {
            format!("cannot open SQLite database {}: {error}", path.display())
        } else {
            format!("database file not found: {}", path.display())
        };
        SqlError::new(SqlErrorKind::Unavailable, message)
    };
    // No SQLITE_OPEN_CREATE: a missing file is an error. No URI: the path is a path.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).map_err(unavailable)?;
    // Several sessions write to one file: wait for a lock as long as a statement may run.
    connection
        .busy_timeout(limits.statement_timeout)
        .map_err(unavailable)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // Enforce the schema's foreign keys (SQLite ignores them by default), and read the
    // schema now so that a file that is not a database fails here, not at first use.
    connection
        .execute_batch("PRAGMA foreign_keys = ON; PRAGMA schema_version;")
        .map_err(unavailable)?;
    Ok(connection)
}

fn query(
    db: &Connection,
    sql: &str,
    params: &[SqlValue],
    limits: SqlLimits,
) -> Result<RowSet, SqlError> {
    let mut statement = prepare(db, sql, params)?;
    let columns: Vec<Column> = statement
        .columns()
        .iter()
        .map(|column| Column {
            name: column.name().to_owned(),
            type_name: column.decl_type().unwrap_or_default().to_owned(),
        })
        .collect();
    let mut budget = ResultBudget::new(limits, &columns);
    let mut rows = Vec::new();
    let mut cursor = statement.raw_query();
    while let Some(row) = cursor.next().map_err(|error| map_error(error, false))? {
        let values = columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let value = row
                    .get_ref(index)
                    .map_err(|error| map_error(error, false))?;
                read(value, &column.name)
            })
            .collect::<Result<Vec<_>, _>>()?;
        budget.admit(&values)?;
        rows.push(values);
    }
    Ok(RowSet { columns, rows })
}

fn execute(db: &Connection, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
    let mut statement = prepare(db, sql, params)?;
    let before = db.total_changes();
    // Stepped like a query so that statements returning rows (RETURNING, some PRAGMAs)
    // run too; their rows are dropped.
    let mut cursor = statement.raw_query();
    while cursor
        .next()
        .map_err(|error| map_error(error, false))?
        .is_some()
    {}
    // `changes()` still counts the last INSERT/UPDATE/DELETE when this statement was
    // something else (DDL, SELECT): trust it only if this statement changed rows.
    Ok(if db.total_changes() == before {
        0
    } else {
        db.changes()
    })
}

/// The cached statement for `sql` with `params` bound.
fn prepare<'db>(
    db: &'db Connection,
    sql: &str,
    params: &[SqlValue],
) -> Result<CachedStatement<'db>, SqlError> {
    let mut statement = db
        .prepare_cached(sql)
        .map_err(|error| map_error(error, true))?;
    if statement.parameter_count() != params.len() {
        return Err(parameter_count_mismatch(
            statement.parameter_count(),
            params.len(),
        ));
    }
    for (index, value) in params.iter().enumerate() {
        statement
            .raw_bind_parameter(index + 1, bind(index, value)?)
            .map_err(|error| map_error(error, false))?;
    }
    Ok(statement)
}

/// `value` as SQLite stores it; parameter `index` counts from 0.
fn bind(index: usize, value: &SqlValue) -> Result<ToSqlOutput<'_>, SqlError> {
    Ok(match value {
        SqlValue::Null => ToSqlOutput::Owned(Value::Null),
        SqlValue::Boolean(value) => ToSqlOutput::Owned(Value::Integer(i64::from(*value))),
        SqlValue::Integer(value) => ToSqlOutput::Owned(Value::Integer(*value)),
        SqlValue::Real(value) => ToSqlOutput::Owned(Value::Real(*value)),
        // With its length: NUL characters stay.
        SqlValue::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
        SqlValue::Blob(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        SqlValue::Timestamp(instant) => {
            ToSqlOutput::Owned(Value::Text(timestamp_to_text(*instant).ok_or_else(|| {
                SqlError::new(
                    SqlErrorKind::InvalidValue,
                    format!(
                        "parameter {}: a timestamp outside the years 0000-9999 cannot be written as RFC 3339 text",
                        index + 1
                    ),
                )
            })?))
        }
    })
}

/// A stored value as an [`SqlValue`], by its storage class.
fn read(value: ValueRef<'_>, column: &str) -> Result<SqlValue, SqlError> {
    Ok(match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(value) => SqlValue::Integer(value),
        ValueRef::Real(value) => SqlValue::Real(value),
        ValueRef::Text(bytes) => SqlValue::Text(String::from_utf8(bytes.to_vec()).map_err(|_| {
            SqlError::new(
                SqlErrorKind::InvalidValue,
                format!(
                    "column \"{column}\" holds text that is not UTF-8: select CAST(\"{column}\" AS BLOB) instead"
                ),
            )
        })?),
        ValueRef::Blob(bytes) => SqlValue::Blob(bytes.to_vec()),
    })
}

/// SQLite's error as an [`SqlError`]. A generic SQLITE_ERROR while preparing is about
/// the statement text: a syntax error, or a table or column that does not exist.
fn map_error(error: rusqlite::Error, preparing: bool) -> SqlError {
    let kind = match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::ConstraintViolation
                if matches!(
                    failure.extended_code,
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                SqlErrorKind::UniqueViolation
            }
            ErrorCode::ConstraintViolation => SqlErrorKind::ConstraintViolation,
            ErrorCode::TypeMismatch | ErrorCode::TooBig => SqlErrorKind::InvalidValue,
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::OperationInterrupted => SqlErrorKind::Timeout,
            ErrorCode::CannotOpen
            | ErrorCode::NotADatabase
            | ErrorCode::DatabaseCorrupt
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull => SqlErrorKind::Unavailable,
            ErrorCode::Unknown if preparing => SqlErrorKind::Syntax,
            _ => SqlErrorKind::Other,
        },
        rusqlite::Error::SqlInputError { .. } | rusqlite::Error::MultipleStatement => {
            SqlErrorKind::Syntax
        }
        _ => SqlErrorKind::Other,
    };
    let message = match error {
        rusqlite::Error::SqliteFailure(_, Some(message))
        | rusqlite::Error::SqlInputError { msg: message, .. } => message,
        rusqlite::Error::MultipleStatement => "only one statement per call".to_owned(),
        other => other.to_string(),
    };
    SqlError::new(kind, message)
}
