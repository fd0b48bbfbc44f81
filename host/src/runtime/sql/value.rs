//! The values, columns and row sets that cross the `sql` capability, in plain Rust.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Which SQL dialect a database speaks: connectors pick placeholders (`?` or `$1`) and
/// statement forms by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, embedded in the host.
    Sqlite,
    /// PostgreSQL, over the network.
    Postgres,
}

/// A value bound to a placeholder or read from a column. The drivers convert it to and
/// from the database's own types; see each driver for the mapping.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    /// SQL NULL; binds to a placeholder of any type.
    Null,
    /// A boolean (SQLite has none: it binds as 0 or 1).
    Boolean(bool),
    /// A 64-bit integer.
    Integer(i64),
    /// A double-precision float.
    Real(f64),
    /// Text, kept exactly (SQLite even keeps NUL characters; PostgreSQL refuses them).
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// An instant (SQLite has none: it binds as RFC 3339 text in UTC).
    Timestamp(OffsetDateTime),
}

impl SqlValue {
    /// The variant's name, for error messages that must not show the value itself (it
    /// may be a secret).
    pub fn kind_name(&self) -> &'static str {
        match self {
            SqlValue::Null => "null",
            SqlValue::Boolean(_) => "boolean",
            SqlValue::Integer(_) => "integer",
            SqlValue::Real(_) => "real",
            SqlValue::Text(_) => "text",
            SqlValue::Blob(_) => "blob",
            SqlValue::Timestamp(_) => "timestamp",
        }
    }
}

/// A result column: connectors map columns to attributes by name and may check the type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The column's name or alias.
    pub name: String,
    /// The database's type name: SQLite's declared type ("" for an expression), or
    /// PostgreSQL's type name (`int8`, `timestamptz`, ...).
    pub type_name: String,
}

/// The rows of a query, each with one value per column, in column order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowSet {
    /// The result's columns.
    pub columns: Vec<Column>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<SqlValue>>,
}

/// `name` quoted as an identifier for `dialect`, with inner quote characters doubled, so
/// table and column names from an app's configuration can never end the identifier.
pub fn quote_identifier(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// `instant` as RFC 3339 text in UTC (`2024-05-01T12:00:00Z`): how timestamps travel as
/// text. `None` outside the years 0000–9999, which RFC 3339 cannot write.
pub(super) fn timestamp_to_text(instant: OffsetDateTime) -> Option<String> {
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .ok()
}

/// RFC 3339 text (`2024-05-01T12:00:00+02:00`) as an instant.
pub(super) fn timestamp_from_text(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}
