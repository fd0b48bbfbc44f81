//! The `sql` capability as the guest sees it: converts between the WIT types and the
//! drivers in [`super::sql`], opens the session's connection on first use, and refuses
//! everything when the app has no database.

use super::bindings::sql::{self, Column, Dialect, RowSet, SqlError, SqlErrorKind, SqlValue};
use super::sql::{self as driver, SqlConnection, SqlLimits, SqlTarget};
use super::state::StoreState;

/// One instance's database access: the app's target and, once used, its connection.
pub struct SqlCapability {
    target: Option<SqlTarget>,
    connection: Option<SqlConnection>,
}

impl SqlCapability {
    /// Access to `target`, or none at all.
    pub fn new(target: Option<SqlTarget>) -> Self {
        Self {
            target,
            connection: None,
        }
    }

    /// Rolls back a transaction the guest left open, so a half-done change never
    /// commits later by accident. Returns whether there was one.
    pub async fn rollback_abandoned(&mut self) -> bool {
        match &mut self.connection {
            Some(c) if c.in_transaction() => {
                if c.rollback().await.is_err() {
                    // A connection that cannot roll back is not reused.
                    self.connection = None;
                }
                true
            }
            _ => false,
        }
    }

    async fn connection(&mut self) -> Result<&mut SqlConnection, SqlError> {
        let Some(target) = &self.target else {
            return Err(SqlError {
                kind: SqlErrorKind::Unavailable,
                message: "this app has no database configured ([apps.NAME.database])".into(),
            });
        };
        if self.connection.is_none() {
            let connection = target
                .connect(SqlLimits::default())
                .await
                .map_err(to_wit_error)?;
            self.connection = Some(connection);
        }
        Ok(self
            .connection
            .as_mut()
            .expect("connection was just opened"))
    }

    /// Runs `f` on the connection; a connection that failed or timed out is dropped, so
    /// the next statement opens a fresh one.
    async fn with_connection<T>(
        &mut self,
        f: impl AsyncFnOnce(&mut SqlConnection) -> Result<T, driver::SqlError>,
    ) -> Result<T, SqlError> {
        let result = f(self.connection().await?).await;
        if let Err(e) = &result
            && matches!(
                e.kind,
                driver::SqlErrorKind::Unavailable | driver::SqlErrorKind::Timeout
            )
        {
            self.connection = None;
        }
        result.map_err(to_wit_error)
    }

    fn dialect(&self) -> Dialect {
        match self.target.as_ref().map(SqlTarget::dialect) {
            Some(driver::Dialect::Postgres) => Dialect::Postgres,
            Some(driver::Dialect::Sqlite) | None => Dialect::Sqlite,
        }
    }
}

fn to_wit_error(e: driver::SqlError) -> SqlError {
    use driver::SqlErrorKind as K;
    let kind = match e.kind {
        K::Unavailable => SqlErrorKind::Unavailable,
        K::UniqueViolation => SqlErrorKind::UniqueViolation,
        K::ConstraintViolation => SqlErrorKind::ConstraintViolation,
        K::Syntax => SqlErrorKind::Syntax,
        K::InvalidValue => SqlErrorKind::InvalidValue,
        K::Timeout => SqlErrorKind::Timeout,
        K::TransactionState => SqlErrorKind::TransactionState,
        K::TooLarge => SqlErrorKind::TooLarge,
        K::Other => SqlErrorKind::Other,
    };
    SqlError {
        kind,
        message: e.message,
    }
}

fn to_driver_value(v: SqlValue) -> Result<driver::SqlValue, SqlError> {
    Ok(match v {
        SqlValue::Null => driver::SqlValue::Null,
        SqlValue::Boolean(b) => driver::SqlValue::Boolean(b),
        SqlValue::Integer(i) => driver::SqlValue::Integer(i),
        SqlValue::Real(r) => driver::SqlValue::Real(r),
        SqlValue::Text(t) => driver::SqlValue::Text(t),
        SqlValue::Blob(b) => driver::SqlValue::Blob(b),
        SqlValue::Timestamp(t) => driver::SqlValue::Timestamp(
            crate::runtime::convert::datetime_to_offset(t).ok_or_else(|| SqlError {
                kind: SqlErrorKind::InvalidValue,
                message: format!(
                    "timestamp {}s {}ns is out of range",
                    t.seconds, t.nanoseconds
                ),
            })?,
        ),
    })
}

fn to_wit_value(v: driver::SqlValue) -> SqlValue {
    match v {
        driver::SqlValue::Null => SqlValue::Null,
        driver::SqlValue::Boolean(b) => SqlValue::Boolean(b),
        driver::SqlValue::Integer(i) => SqlValue::Integer(i),
        driver::SqlValue::Real(r) => SqlValue::Real(r),
        driver::SqlValue::Text(t) => SqlValue::Text(t),
        driver::SqlValue::Blob(b) => SqlValue::Blob(b),
        driver::SqlValue::Timestamp(t) => {
            SqlValue::Timestamp(crate::runtime::convert::offset_to_datetime(t))
        }
    }
}

fn params(values: Vec<SqlValue>) -> Result<Vec<driver::SqlValue>, SqlError> {
    values.into_iter().map(to_driver_value).collect()
}

impl sql::Host for StoreState {
    async fn database_dialect(&mut self) -> wasmtime::Result<Dialect> {
        Ok(self.sql.dialect())
    }

    async fn quote_identifier(&mut self, name: String) -> wasmtime::Result<String> {
        let dialect = match self.sql.dialect() {
            Dialect::Postgres => driver::Dialect::Postgres,
            _ => driver::Dialect::Sqlite,
        };
        Ok(driver::quote_identifier(dialect, &name))
    }

    async fn query(
        &mut self,
        statement: String,
        values: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<RowSet, SqlError>> {
        let values = match params(values) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let rows = self
            .sql
            .with_connection(async |c| c.query(&statement, values).await)
            .await;
        Ok(rows.map(|rows| RowSet {
            columns: rows
                .columns
                .into_iter()
                .map(|c| Column {
                    name: c.name,
                    type_name: c.type_name,
                })
                .collect(),
            rows: rows
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(to_wit_value).collect())
                .collect(),
        }))
    }

    async fn execute(
        &mut self,
        statement: String,
        values: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<u64, SqlError>> {
        let values = match params(values) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .sql
            .with_connection(async |c| c.execute(&statement, values).await)
            .await)
    }

    async fn begin(&mut self) -> wasmtime::Result<Result<(), SqlError>> {
        Ok(self.sql.with_connection(async |c| c.begin().await).await)
    }

    async fn commit(&mut self) -> wasmtime::Result<Result<(), SqlError>> {
        Ok(self.sql.with_connection(async |c| c.commit().await).await)
    }

    async fn rollback(&mut self) -> wasmtime::Result<Result<(), SqlError>> {
        Ok(self.sql.with_connection(async |c| c.rollback().await).await)
    }
}
