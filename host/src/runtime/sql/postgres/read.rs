//! Result columns: each PostgreSQL value read into a [`SqlValue`] by its column's type.
//!
//! | column type | value |
//! |---|---|
//! | bool | boolean |
//! | int2, int4, int8 | integer |
//! | float4, float8 | real |
//! | text, varchar, bpchar, name, citext, json, jsonb, enums | text |
//! | numeric, uuid | text (`-12.50`, lowercase hyphenated UUID) |
//! | bytea | blob |
//! | timestamptz, timestamp (as UTC), date (midnight UTC) | timestamp |
//! | void (a function returning nothing) | null |
//!
//! A query with a column of another type is refused before it runs, with a message that
//! names the column and suggests a cast to text.

use std::error::Error;

use time::{Date, OffsetDateTime, PrimitiveDateTime};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Type};
use uuid::Uuid;

use super::numeric;
use super::types::{PgKind, kind_of};
use crate::runtime::sql::{SqlError, SqlErrorKind, SqlValue};

/// `InvalidValue` unless every column has a type Ferry reads: checked before the
/// statement runs, so a query with side effects (`INSERT ... RETURNING`) fails before
/// it changes anything.
pub(super) fn check_readable(columns: &[tokio_postgres::Column]) -> Result<(), SqlError> {
    match columns
        .iter()
        .find(|column| kind_of(column.type_()).is_none())
    {
        None => Ok(()),
        Some(column) => Err(SqlError::new(
            SqlErrorKind::InvalidValue,
            format!(
                "column \"{name}\" has type {ty}, which Ferry cannot read: cast it to text in the query (\"{name}\"::text)",
                name = column.name(),
                ty = column.type_().name()
            ),
        )),
    }
}

/// One row's values, in column order.
pub(super) fn row(row: &Row) -> Result<Vec<SqlValue>, SqlError> {
    row.columns()
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let unreadable = |error: &dyn std::fmt::Display| {
                SqlError::new(
                    SqlErrorKind::InvalidValue,
                    format!(
                        "column \"{}\" ({}): {error}; cast it to text in the query",
                        column.name(),
                        column.type_().name()
                    ),
                )
            };
            let Raw(raw) = row.try_get(index).map_err(|error| unreadable(&error))?;
            match (raw, kind_of(column.type_())) {
                (None, _) => Ok(SqlValue::Null),
                (Some(raw), Some(kind)) => {
                    value(kind, column.type_(), raw).map_err(|error| unreadable(&error))
                }
                (Some(_), None) => Err(unreadable(&"unsupported type")),
            }
        })
        .collect()
}

/// A column's raw binary value (`None` for NULL), whatever its type: the conversion is
/// chosen by [`kind_of`], not by the Rust type asked for.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Raw<'a>, Box<dyn Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Raw<'a>, Box<dyn Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A non-null value of `kind`, in binary format.
fn value(kind: PgKind, ty: &Type, raw: &[u8]) -> Result<SqlValue, Box<dyn Error + Sync + Send>> {
    Ok(match kind {
        PgKind::Bool => SqlValue::Boolean(bool::from_sql(ty, raw)?),
        PgKind::Int2 => SqlValue::Integer(i16::from_sql(ty, raw)?.into()),
        PgKind::Int4 => SqlValue::Integer(i32::from_sql(ty, raw)?.into()),
        PgKind::Int8 => SqlValue::Integer(i64::from_sql(ty, raw)?),
        PgKind::Float4 => SqlValue::Real(f32::from_sql(ty, raw)?.into()),
        PgKind::Float8 => SqlValue::Real(f64::from_sql(ty, raw)?),
        PgKind::Numeric => SqlValue::Text(numeric::decode(raw)?),
        PgKind::Text => SqlValue::Text(std::str::from_utf8(raw)?.to_owned()),
        PgKind::Jsonb => match raw.split_first() {
            Some((1, json)) => SqlValue::Text(std::str::from_utf8(json)?.to_owned()),
            _ => return Err("unknown jsonb format version".into()),
        },
        PgKind::Bytea => SqlValue::Blob(raw.to_vec()),
        PgKind::Uuid => SqlValue::Text(Uuid::from_sql(ty, raw)?.to_string()),
        PgKind::TimestampTz => SqlValue::Timestamp(OffsetDateTime::from_sql(ty, raw)?),
        PgKind::Timestamp => {
            SqlValue::Timestamp(PrimitiveDateTime::from_sql(ty, raw)?.assume_utc())
        }
        PgKind::Date => SqlValue::Timestamp(Date::from_sql(ty, raw)?.midnight().assume_utc()),
        PgKind::Void => SqlValue::Null,
    })
}
