//! PostgreSQL over tokio-postgres.
//!
//! Statements are prepared once per connection and cached by their text (bounded, least
//! recently used out), and parameters are converted to the types the server inferred at
//! prepare time ([`bind`]); rows are read by their columns' types ([`read`]), one at a
//! time, so the result limits stop a query while it streams.
//!
//! TLS: connections are plain TCP (`NoTls`) for now; `sslmode=require` is refused when
//! the target is parsed. The host's rustls configuration will be wired here later.

mod bind;
mod numeric;
mod read;
mod types;

use std::collections::HashMap;
use std::pin::pin;
use std::time::Duration;

use futures_util::TryStreamExt;
use tokio_postgres::{Client, NoTls, Statement};

use super::limits::ResultBudget;
use super::target::PostgresTarget;
use super::{
    Column, RowSet, STATEMENT_CACHE_CAPACITY, SqlError, SqlErrorKind, SqlLimits, SqlValue, TxCall,
};

/// How long a cancel request after a timeout may take: it is best effort, the server's
/// own `statement_timeout` stops the statement anyway.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// An open PostgreSQL session.
pub(super) struct PostgresConnection {
    client: Client,
    statements: StatementCache,
}

impl PostgresConnection {
    /// Connects and sets the server-side `statement_timeout` to the limit, so that a
    /// statement stops on the server too when the host gives up on it.
    pub(super) async fn connect(
        target: &PostgresTarget,
        limits: SqlLimits,
    ) -> Result<PostgresConnection, SqlError> {
        let (client, connection) = target.config.connect(NoTls).await.map_err(|error| {
            let reason = match error.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => error.to_string(),
            };
            SqlError::new(
                SqlErrorKind::Unavailable,
                format!("cannot connect to PostgreSQL: {reason}"),
            )
        })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "PostgreSQL connection ended");
            }
        });
        let timeout_ms = limits.statement_timeout.as_millis().max(1);
        client
            .batch_execute(&format!("SET statement_timeout = {timeout_ms}"))
            .await
            .map_err(map_error)?;
        Ok(PostgresConnection {
            client,
            statements: StatementCache::default(),
        })
    }

    /// Runs a statement and reads its rows within `limits`.
    pub(super) async fn query(
        &mut self,
        sql: &str,
        params: Vec<SqlValue>,
        limits: SqlLimits,
    ) -> Result<RowSet, SqlError> {
        let statement = self.prepare(sql).await?;
        let result = self.read_rows(&statement, &params, limits).await;
        self.forget_if_failed(sql, &result);
        result
    }

    /// Runs a statement; the rows it changed.
    pub(super) async fn execute(
        &mut self,
        sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<u64, SqlError> {
        let statement = self.prepare(sql).await?;
        let values = bind::convert_all(&statement, &params)?;
        let result = self
            .client
            .execute_raw(&statement, values.iter())
            .await
            .map_err(map_error);
        self.forget_if_failed(sql, &result);
        result
    }

    /// Begins, commits or rolls back.
    pub(super) async fn transaction(&mut self, call: TxCall) -> Result<(), SqlError> {
        let statement = match call {
            TxCall::Begin => "BEGIN",
            TxCall::Commit => "COMMIT",
            TxCall::Rollback => "ROLLBACK",
        };
        self.client
            .batch_execute(statement)
            .await
            .map_err(map_error)
    }

    /// Asks the server to cancel the running statement after a timeout (in the
    /// background: the connection is being given up).
    pub(super) fn interrupt(&self) {
        let token = self.client.cancel_token();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(CANCEL_TIMEOUT, token.cancel_query(NoTls)).await;
        });
    }

    async fn read_rows(
        &self,
        statement: &Statement,
        params: &[SqlValue],
        limits: SqlLimits,
    ) -> Result<RowSet, SqlError> {
        let values = bind::convert_all(statement, params)?;
        read::check_readable(statement.columns())?;
        let columns: Vec<Column> = statement
            .columns()
            .iter()
            .map(|column| Column {
                name: column.name().to_owned(),
                type_name: column.type_().name().to_owned(),
            })
            .collect();
        let mut budget = ResultBudget::new(limits, &columns);
        let mut stream = pin!(
            self.client
                .query_raw(statement, values.iter())
                .await
                .map_err(map_error)?
        );
        let mut rows = Vec::new();
        // Dropping the stream early (TooLarge) leaves the connection usable: the rest of
        // the result is discarded as it arrives.
        while let Some(row) = stream.try_next().await.map_err(map_error)? {
            let values = read::row(&row)?;
            budget.admit(&values)?;
            rows.push(values);
        }
        Ok(RowSet { columns, rows })
    }

    async fn prepare(&mut self, sql: &str) -> Result<Statement, SqlError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement);
        }
        let statement = self.client.prepare(sql).await.map_err(map_error)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Drops a statement that failed from the cache, so that one invalidated by a schema
    /// change ("cached plan must not change result type") is prepared afresh next time.
    fn forget_if_failed<T>(&mut self, sql: &str, result: &Result<T, SqlError>) {
        if result.is_err() {
            self.statements.remove(sql);
        }
    }
}

/// Prepared statements by text, at most [`STATEMENT_CACHE_CAPACITY`], least recently
/// used evicted first. A dropped statement is closed on the server.
#[derive(Default)]
struct StatementCache {
    entries: HashMap<String, (Statement, u64)>,
    clock: u64,
}

impl StatementCache {
    fn get(&mut self, sql: &str) -> Option<Statement> {
        self.clock += 1;
        let (statement, used) = self.entries.get_mut(sql)?;
        *used = self.clock;
        Some(statement.clone())
    }

    fn insert(&mut self, sql: &str, statement: Statement) {
        if self.entries.len() >= STATEMENT_CACHE_CAPACITY {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(sql, _)| sql.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.clock += 1;
        self.entries.insert(sql.to_owned(), (statement, self.clock));
    }

    fn remove(&mut self, sql: &str) {
        self.entries.remove(sql);
    }
}

/// PostgreSQL's error as an [`SqlError`], by SQLSTATE.
fn map_error(error: tokio_postgres::Error) -> SqlError {
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        let kind = match code {
            "23505" => SqlErrorKind::UniqueViolation,
            "57014" | "55P03" => SqlErrorKind::Timeout,
            _ if code.starts_with("23") => SqlErrorKind::ConstraintViolation,
            _ if code.starts_with("42") => SqlErrorKind::Syntax,
            _ if code.starts_with("22") => SqlErrorKind::InvalidValue,
            _ if code.starts_with("25") => SqlErrorKind::TransactionState,
            // Connection exceptions; server shutting down; too many connections.
            _ if code.starts_with("08") || code.starts_with("57P") || code == "53300" => {
                SqlErrorKind::Unavailable
            }
            _ => SqlErrorKind::Other,
        };
        // The server's DETAIL is left out: it can quote a whole row ("Failing row
        // contains ...") or a key's value, and rows may hold secrets. The message names
        // the constraint or column, which is what an operator needs.
        let message = db.message().to_owned();
        return SqlError::new(kind, message);
    }
    let broken = error.is_closed()
        || std::error::Error::source(&error).is_some_and(|source| source.is::<std::io::Error>());
    let kind = if broken {
        SqlErrorKind::Unavailable
    } else {
        SqlErrorKind::Other
    };
    SqlError::new(kind, error.to_string())
}

#[cfg(test)]
impl PostgresConnection {
    /// How many statements the cache holds, for the test that it stays bounded.
    pub(super) fn cached_statements(&self) -> usize {
        self.statements.entries.len()
    }
}
