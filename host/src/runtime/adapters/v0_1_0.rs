//! `ferry:connector@0.1.0` on a 0.2.0 host. The data model (`types`) did not change, so
//! the old bindings use the current types directly and an old component's exports need
//! no conversion. The host imports (`log`, `sql`, `net`) have the same shape but are
//! distinct interfaces by name, so each old import is implemented here by converting its
//! arguments and results and calling the current implementation.

#![allow(
    missing_docs,
    reason = "generated from the released WIT, which carries the documentation"
)]

use wasmtime::component::Resource;

use crate::runtime::bindings as current;
use crate::runtime::net::NetConnection;
use crate::runtime::state::StoreState;

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    world: "ferry:connector/plugin",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        // Unchanged since 0.1.0: shared, so results need no conversion.
        "ferry:connector/types": crate::runtime::bindings::types,
        "ferry:connector/net.connection": crate::runtime::net::NetConnection,
    },
});

pub use self::exports::ferry::connector::connector as guest;
use self::ferry::connector::{log, net, sql};

/// Converts between enums of the same cases in the old and current bindings.
macro_rules! same_enum {
    ($old:ty, $new:ty, [$($case:ident),* $(,)?]) => {
        impl From<$old> for $new {
            fn from(value: $old) -> Self {
                match value { $(<$old>::$case => <$new>::$case,)* }
            }
        }
        impl From<$new> for $old {
            fn from(value: $new) -> Self {
                match value { $(<$new>::$case => <$old>::$case,)* }
            }
        }
    };
}

same_enum!(
    log::Level,
    current::log::Level,
    [Trace, Debug, Info, Warn, Error]
);
same_enum!(
    sql::Dialect,
    current::sql::Dialect,
    [Sqlite, Postgres, Mysql]
);
same_enum!(
    sql::SqlErrorKind,
    current::sql::SqlErrorKind,
    [
        Unavailable,
        UniqueViolation,
        ConstraintViolation,
        Syntax,
        InvalidValue,
        Timeout,
        TransactionState,
        TooLarge,
        Other
    ]
);
same_enum!(
    net::Security,
    current::net::Security,
    [Plain, Tls, StartTls]
);

impl From<sql::SqlValue> for current::sql::SqlValue {
    fn from(value: sql::SqlValue) -> Self {
        use sql::SqlValue as Old;
        match value {
            Old::Null => Self::Null,
            Old::Boolean(b) => Self::Boolean(b),
            Old::Integer(i) => Self::Integer(i),
            Old::Real(r) => Self::Real(r),
            Old::Text(t) => Self::Text(t),
            Old::Blob(b) => Self::Blob(b),
            Old::Timestamp(t) => Self::Timestamp(t),
        }
    }
}

impl From<current::sql::SqlValue> for sql::SqlValue {
    fn from(value: current::sql::SqlValue) -> Self {
        use current::sql::SqlValue as New;
        match value {
            New::Null => Self::Null,
            New::Boolean(b) => Self::Boolean(b),
            New::Integer(i) => Self::Integer(i),
            New::Real(r) => Self::Real(r),
            New::Text(t) => Self::Text(t),
            New::Blob(b) => Self::Blob(b),
            New::Timestamp(t) => Self::Timestamp(t),
        }
    }
}

impl From<current::sql::SqlError> for sql::SqlError {
    fn from(e: current::sql::SqlError) -> Self {
        Self {
            kind: e.kind.into(),
            message: e.message,
        }
    }
}

impl From<current::sql::RowSet> for sql::RowSet {
    fn from(rows: current::sql::RowSet) -> Self {
        Self {
            columns: rows
                .columns
                .into_iter()
                .map(|c| sql::Column {
                    name: c.name,
                    type_name: c.type_name,
                })
                .collect(),
            rows: rows
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(Into::into).collect())
                .collect(),
        }
    }
}

impl From<current::net::NetError> for net::NetError {
    fn from(e: current::net::NetError) -> Self {
        use current::net::NetError as New;
        match e {
            New::Denied(s) => Self::Denied(s),
            New::Resolve(s) => Self::Resolve(s),
            New::Connect(s) => Self::Connect(s),
            New::Tls(s) => Self::Tls(s),
            New::Timeout => Self::Timeout,
            New::Closed => Self::Closed,
            New::Limit => Self::Limit,
            New::Other(s) => Self::Other(s),
        }
    }
}

/// An old result from a current one: the error converted, the value by `ok`.
fn old<T, U, E: Into<F>, F>(
    result: wasmtime::Result<Result<T, E>>,
    ok: impl FnOnce(T) -> U,
) -> wasmtime::Result<Result<U, F>> {
    result.map(|r| r.map(ok).map_err(Into::into))
}

fn new_values(values: Vec<sql::SqlValue>) -> Vec<current::sql::SqlValue> {
    values.into_iter().map(Into::into).collect()
}

impl log::Host for StoreState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        current::log::Host::log(self, level.into(), message).await
    }
}

impl sql::Host for StoreState {
    async fn database_dialect(&mut self) -> wasmtime::Result<sql::Dialect> {
        current::sql::Host::database_dialect(self)
            .await
            .map(Into::into)
    }

    async fn quote_identifier(&mut self, name: String) -> wasmtime::Result<String> {
        current::sql::Host::quote_identifier(self, name).await
    }

    async fn query(
        &mut self,
        statement: String,
        values: Vec<sql::SqlValue>,
    ) -> wasmtime::Result<Result<sql::RowSet, sql::SqlError>> {
        let rows = current::sql::Host::query(self, statement, new_values(values)).await;
        old(rows, Into::into)
    }

    async fn execute(
        &mut self,
        statement: String,
        values: Vec<sql::SqlValue>,
    ) -> wasmtime::Result<Result<u64, sql::SqlError>> {
        let changed = current::sql::Host::execute(self, statement, new_values(values)).await;
        old(changed, |n| n)
    }

    async fn begin(&mut self) -> wasmtime::Result<Result<(), sql::SqlError>> {
        old(current::sql::Host::begin(self).await, |()| ())
    }

    async fn commit(&mut self) -> wasmtime::Result<Result<(), sql::SqlError>> {
        old(current::sql::Host::commit(self).await, |()| ())
    }

    async fn rollback(&mut self) -> wasmtime::Result<Result<(), sql::SqlError>> {
        old(current::sql::Host::rollback(self).await, |()| ())
    }
}

impl net::Host for StoreState {
    async fn connect(
        &mut self,
        host: String,
        port: u16,
        security: net::Security,
    ) -> wasmtime::Result<Result<Resource<NetConnection>, net::NetError>> {
        let connection = current::net::Host::connect(self, host, port, security.into()).await;
        old(connection, |c| c)
    }
}

impl net::HostConnection for StoreState {
    async fn read(
        &mut self,
        connection: Resource<NetConnection>,
        max: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, net::NetError>> {
        old(
            current::net::HostConnection::read(self, connection, max).await,
            |bytes| bytes,
        )
    }

    async fn write(
        &mut self,
        connection: Resource<NetConnection>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), net::NetError>> {
        old(
            current::net::HostConnection::write(self, connection, data).await,
            |()| (),
        )
    }

    async fn start_tls(
        &mut self,
        connection: Resource<NetConnection>,
    ) -> wasmtime::Result<Result<(), net::NetError>> {
        old(
            current::net::HostConnection::start_tls(self, connection).await,
            |()| (),
        )
    }

    async fn drop(&mut self, connection: Resource<NetConnection>) -> wasmtime::Result<()> {
        current::net::HostConnection::drop(self, connection).await
    }
}
