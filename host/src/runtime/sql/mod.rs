//! The host side of the `sql` capability: the drivers connectors use to reach an app's
//! database, so that connectors need no driver, no credentials and no network access.
//!
//! A connector sends statement text and separate parameter values; values are always
//! bound, never spliced into SQL. Each connector session gets one [`SqlConnection`] from
//! the app's [`SqlTarget`]. Every call runs under the app's [`SqlLimits`]: a call that
//! overruns `statement_timeout` fails with `Timeout` and closes the connection, and a
//! query returning more than `max_rows` / `max_result_bytes` stops with `TooLarge` while
//! it is read.
//!
//! * SQLite (`sqlite.rs`): embedded (rusqlite, bundled), on a file that must exist.
//! * PostgreSQL (`postgres.rs`): tokio-postgres, statements prepared and cached per
//!   connection, parameters converted to the types the server inferred. No TLS yet.
//!
//! These are plain Rust types; the capability's wasmtime bindings convert to and from
//! them.

mod error;
mod limits;
mod postgres;
mod sqlite;
mod target;
mod transaction;
mod value;

#[cfg(test)]
mod tests;

pub use error::{SqlError, SqlErrorKind};
pub use limits::{SqlLimits, VALUE_OVERHEAD};
pub use target::{InvalidTarget, PostgresTarget, SqlTarget};
pub use value::{Column, Dialect, RowSet, SqlValue, quote_identifier};

use postgres::PostgresConnection;
use sqlite::SqliteConnection;
use transaction::{Control, TxState};

/// How many prepared statements a connection keeps, by statement text: a connector
/// repeats a handful of statements, so this avoids re-parsing them while bounding what a
/// connector generating endless distinct statements can pin in memory.
const STATEMENT_CACHE_CAPACITY: usize = 256;

/// One connector session's connection to its app's database. Calls take `&mut self`, so
/// a session runs one statement at a time, as a connection requires.
///
/// After a timeout or a broken connection the connection is closed for good and every
/// later call fails with `Unavailable`: the session's pool opens a new one. Closing it
/// (dropping it) rolls back any open transaction.
pub struct SqlConnection {
    /// `None` once closed after a timeout or a connection failure.
    driver: Option<Driver>,
    limits: SqlLimits,
    tx: TxState,
}

/// The database behind a connection.
enum Driver {
    Sqlite(SqliteConnection),
    Postgres(PostgresConnection),
}

impl From<SqliteConnection> for Driver {
    fn from(connection: SqliteConnection) -> Driver {
        Driver::Sqlite(connection)
    }
}

impl From<PostgresConnection> for Driver {
    fn from(connection: PostgresConnection) -> Driver {
        Driver::Postgres(connection)
    }
}

/// What a transaction call sends.
#[derive(Clone, Copy)]
enum TxCall {
    Begin,
    Commit,
    Rollback,
}

impl SqlConnection {
    fn new(driver: Driver, limits: SqlLimits) -> SqlConnection {
        SqlConnection {
            driver: Some(driver),
            limits,
            tx: TxState::Idle,
        }
    }

    /// Runs a statement that returns rows, binding `params` to its placeholders (`?`
    /// for SQLite, `$1`, `$2`, ... for PostgreSQL).
    pub async fn query(
        &mut self,
        statement: &str,
        params: Vec<SqlValue>,
    ) -> Result<RowSet, SqlError> {
        let control = transaction::classify(statement);
        let driver = live(&mut self.driver)?;
        self.tx.check(control)?;
        let limits = self.limits;
        let result = match driver {
            Driver::Sqlite(db) => timed(limits, db.query(statement, params, limits)).await,
            Driver::Postgres(db) => timed(limits, db.query(statement, params, limits)).await,
        };
        self.settle_statement(control, result)
    }

    /// Runs a statement for its effect; the number of rows it inserted, updated or
    /// deleted (0 for DDL). Read rows with [`query`](Self::query): for a `SELECT` run
    /// here, PostgreSQL counts the rows selected where SQLite says 0.
    pub async fn execute(
        &mut self,
        statement: &str,
        params: Vec<SqlValue>,
    ) -> Result<u64, SqlError> {
        let control = transaction::classify(statement);
        let driver = live(&mut self.driver)?;
        self.tx.check(control)?;
        let limits = self.limits;
        let result = match driver {
            Driver::Sqlite(db) => timed(limits, db.execute(statement, params)).await,
            Driver::Postgres(db) => timed(limits, db.execute(statement, params)).await,
        };
        self.settle_statement(control, result)
    }

    /// Opens a transaction (SQLite: `BEGIN IMMEDIATE`, taking the write lock now rather
    /// than failing at the first write). `TransactionState` if one is open.
    pub async fn begin(&mut self) -> Result<(), SqlError> {
        self.transaction_call(TxCall::Begin).await
    }

    /// Makes the transaction's changes permanent. `TransactionState` if none is open, or
    /// if a statement in it failed: then it is rolled back instead. Either way, the
    /// transaction is over when this returns.
    pub async fn commit(&mut self) -> Result<(), SqlError> {
        if self.tx != TxState::Failed {
            return self.transaction_call(TxCall::Commit).await;
        }
        self.transaction_call(TxCall::Rollback).await?;
        Err(transaction_state(
            "the transaction was rolled back, not committed: a statement in it failed",
        ))
    }

    /// Undoes the transaction's changes. `TransactionState` if none is open.
    pub async fn rollback(&mut self) -> Result<(), SqlError> {
        self.transaction_call(TxCall::Rollback).await
    }

    /// Whether a transaction is open: the host rolls it back when an export returns. A
    /// closed connection has none (the database rolled it back).
    pub fn in_transaction(&self) -> bool {
        self.tx != TxState::Idle
    }

    /// Begins, commits or rolls back, if the transaction state allows it. Afterwards a
    /// transaction is open only if `begin` succeeded: a failed commit or rollback ends
    /// it too (both databases roll back).
    async fn transaction_call(&mut self, call: TxCall) -> Result<(), SqlError> {
        let driver = live(&mut self.driver)?;
        match (call, self.tx) {
            (TxCall::Begin, TxState::Idle)
            | (TxCall::Commit | TxCall::Rollback, TxState::Open | TxState::Failed) => {}
            (TxCall::Begin, _) => return Err(transaction_state("a transaction is already open")),
            (TxCall::Commit | TxCall::Rollback, TxState::Idle) => {
                return Err(transaction_state("no transaction is open"));
            }
        }
        let limits = self.limits;
        let result = match driver {
            Driver::Sqlite(db) => timed(limits, db.transaction(call)).await,
            Driver::Postgres(db) => timed(limits, db.transaction(call)).await,
        };
        self.tx = match (call, &result) {
            (TxCall::Begin, Ok(())) => TxState::Open,
            _ => TxState::Idle,
        };
        self.settle(result)
    }

    /// The outcome of a statement, with the transaction state moved on.
    fn settle_statement<T>(
        &mut self,
        control: Control,
        result: Result<T, Option<SqlError>>,
    ) -> Result<T, SqlError> {
        self.tx = self.tx.after(control, result.is_ok());
        self.settle(result)
    }

    /// The outcome of a call. A timeout stops the call on the database side and closes
    /// the connection; so does an `Unavailable` or `Timeout` error, after which the
    /// connection's state is unknown.
    fn settle<T>(&mut self, result: Result<T, Option<SqlError>>) -> Result<T, SqlError> {
        let error = match result {
            Ok(value) => return Ok(value),
            Err(Some(error)) => error,
            Err(None) => {
                if let Some(driver) = &self.driver {
                    match driver {
                        Driver::Sqlite(db) => db.interrupt(),
                        Driver::Postgres(db) => db.interrupt(),
                    }
                }
                SqlError::new(
                    SqlErrorKind::Timeout,
                    format!(
                        "the statement took longer than {} ms",
                        self.limits.statement_timeout.as_millis()
                    ),
                )
            }
        };
        if matches!(
            error.kind,
            SqlErrorKind::Unavailable | SqlErrorKind::Timeout
        ) {
            // Closing the connection ends its transaction on the database side.
            self.driver = None;
            self.tx = TxState::Idle;
        }
        Err(error)
    }
}

/// The open driver, or `Unavailable` once it was closed.
fn live(driver: &mut Option<Driver>) -> Result<&mut Driver, SqlError> {
    driver.as_mut().ok_or_else(|| {
        SqlError::new(
            SqlErrorKind::Unavailable,
            "the database connection was closed after a timeout or a connection failure",
        )
    })
}

/// Runs `call` under the statement timeout; `Err(None)` when it overran (and was dropped).
async fn timed<T>(
    limits: SqlLimits,
    call: impl Future<Output = Result<T, SqlError>>,
) -> Result<T, Option<SqlError>> {
    match tokio::time::timeout(limits.statement_timeout, call).await {
        Ok(result) => result.map_err(Some),
        Err(_) => Err(None),
    }
}

/// The error for a statement given the wrong number of values.
fn parameter_count_mismatch(placeholders: usize, values: usize) -> SqlError {
    SqlError::new(
        SqlErrorKind::InvalidValue,
        format!("the statement has {placeholders} placeholders but {values} values were given"),
    )
}

fn transaction_state(message: &str) -> SqlError {
    SqlError::new(SqlErrorKind::TransactionState, message)
}
