//! Parameters: each [`SqlValue`] converted to the type PostgreSQL inferred for its
//! placeholder when the statement was prepared.
//!
//! Connectors know little about the target's column types (a SCIM attribute is mostly a
//! string), so conversions that cannot lose information are made here:
//!
//! | placeholder type | accepts |
//! |---|---|
//! | text, varchar, bpchar, name, citext, json, enums, unknown | text; integer, real, boolean and timestamp as their text |
//! | jsonb | as text, JSON-checked by the server |
//! | int2, int4, int8 | integer, or text holding one (range-checked) |
//! | float4, float8 | real; integer when exactly representable; text holding a number |
//! | numeric | integer, real, text holding a decimal number |
//! | bool | boolean; text `true`/`false`/`t`/`f`/`1`/`0` |
//! | uuid | text holding a UUID |
//! | timestamptz, timestamp, date | timestamp; RFC 3339 text (date also takes `YYYY-MM-DD`); `timestamp` and `date` are UTC |
//! | bytea | blob |
//! | any | null |
//!
//! Anything else is `InvalidValue`, naming the parameter and both types. Messages never
//! contain the value: it may be a secret.

use std::borrow::Cow;
use std::error::Error;

use bytes::{BufMut, BytesMut};
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};
use tokio_postgres::Statement;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use uuid::Uuid;

use super::numeric;
use super::types::{PgKind, kind_of};
use crate::runtime::sql::value::{timestamp_from_text, timestamp_to_text};
use crate::runtime::sql::{SqlError, SqlErrorKind, SqlValue, parameter_count_mismatch};

/// A parameter converted for its placeholder, ready to be written in binary format.
#[derive(Debug)]
pub(super) enum PgParam<'a> {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    Text(Cow<'a, str>),
    Jsonb(Cow<'a, str>),
    /// Already in numeric's binary format.
    Numeric(Vec<u8>),
    Bytea(&'a [u8]),
    Uuid(Uuid),
    TimestampTz(OffsetDateTime),
    Timestamp(PrimitiveDateTime),
    Date(Date),
}

/// `params` converted for `statement`'s placeholders.
pub(super) fn convert_all<'a>(
    statement: &Statement,
    params: &'a [SqlValue],
) -> Result<Vec<PgParam<'a>>, SqlError> {
    let types = statement.params();
    if types.len() != params.len() {
        return Err(parameter_count_mismatch(types.len(), params.len()));
    }
    params
        .iter()
        .zip(types)
        .enumerate()
        .map(|(index, (value, ty))| {
            Placeholder {
                number: index + 1,
                ty,
            }
            .convert(value)
        })
        .collect()
}

/// A placeholder (`$number`) and the type the server inferred for it.
struct Placeholder<'t> {
    number: usize,
    ty: &'t Type,
}

impl Placeholder<'_> {
    fn convert<'a>(&self, value: &'a SqlValue) -> Result<PgParam<'a>, SqlError> {
        if *value == SqlValue::Null {
            return Ok(PgParam::Null);
        }
        let Some(kind) = kind_of(self.ty) else {
            return Err(self.error(format!(
                "has type {ty}, which Ferry cannot bind: convert it in the statement, e.g. ${n}::text::{ty}",
                ty = self.ty.name(),
                n = self.number
            )));
        };
        Ok(match (kind, value) {
            (PgKind::Text, _) => PgParam::Text(self.text(value)?),
            (PgKind::Jsonb, _) => PgParam::Jsonb(self.text(value)?),
            (PgKind::Bool, SqlValue::Boolean(value)) => PgParam::Bool(*value),
            (PgKind::Bool, SqlValue::Text(text)) => {
                PgParam::Bool(match text.trim().to_ascii_lowercase().as_str() {
                    "true" | "t" | "1" => true,
                    "false" | "f" | "0" => false,
                    _ => return Err(self.unparsable()),
                })
            }
            (PgKind::Int2 | PgKind::Int4 | PgKind::Int8, SqlValue::Integer(value)) => {
                self.integer(kind, *value)?
            }
            (PgKind::Int2 | PgKind::Int4 | PgKind::Int8, SqlValue::Text(text)) => {
                let value = text.trim().parse().map_err(|_| self.unparsable())?;
                self.integer(kind, value)?
            }
            (PgKind::Float4, SqlValue::Integer(value))
                if (*value as f32) as i128 == i128::from(*value) =>
            {
                PgParam::Float4(*value as f32)
            }
            (PgKind::Float8, SqlValue::Integer(value))
                if (*value as f64) as i128 == i128::from(*value) =>
            {
                PgParam::Float8(*value as f64)
            }
            (PgKind::Float4 | PgKind::Float8, SqlValue::Integer(_)) => {
                return Err(
                    self.error(format!("the integer has no exact {} value", self.ty.name()))
                );
            }
            (PgKind::Float4 | PgKind::Float8, SqlValue::Real(value)) => self.float(kind, *value)?,
            (PgKind::Float4 | PgKind::Float8, SqlValue::Text(text)) => {
                let value = text.trim().parse().map_err(|_| self.unparsable())?;
                self.float(kind, value)?
            }
            (PgKind::Numeric, SqlValue::Integer(value)) => self.numeric(&value.to_string())?,
            (PgKind::Numeric, SqlValue::Real(value)) => self.numeric(&value.to_string())?,
            (PgKind::Numeric, SqlValue::Text(text)) => self.numeric(text.trim())?,
            (PgKind::Bytea, SqlValue::Blob(bytes)) => PgParam::Bytea(bytes),
            (PgKind::Uuid, SqlValue::Text(text)) => {
                PgParam::Uuid(Uuid::parse_str(text.trim()).map_err(|_| self.unparsable())?)
            }
            (PgKind::TimestampTz, SqlValue::Timestamp(_) | SqlValue::Text(_)) => {
                PgParam::TimestampTz(self.instant(value)?)
            }
            (PgKind::Timestamp, SqlValue::Timestamp(_) | SqlValue::Text(_)) => {
                let utc = self.instant(value)?.to_offset(UtcOffset::UTC);
                PgParam::Timestamp(PrimitiveDateTime::new(utc.date(), utc.time()))
            }
            (PgKind::Date, SqlValue::Text(text)) if text.trim().len() == 10 => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                PgParam::Date(Date::parse(text.trim(), format).map_err(|_| self.unparsable())?)
            }
            (PgKind::Date, SqlValue::Timestamp(_) | SqlValue::Text(_)) => {
                PgParam::Date(self.instant(value)?.to_offset(UtcOffset::UTC).date())
            }
            _ => return Err(self.mismatch(value)),
        })
    }

    /// `value` as text, for a text-like placeholder.
    fn text<'a>(&self, value: &'a SqlValue) -> Result<Cow<'a, str>, SqlError> {
        let text = match value {
            SqlValue::Text(text) => Cow::Borrowed(text.as_str()),
            SqlValue::Integer(value) => Cow::Owned(value.to_string()),
            SqlValue::Real(value) => Cow::Owned(value.to_string()),
            SqlValue::Boolean(value) => Cow::Borrowed(if *value { "true" } else { "false" }),
            SqlValue::Timestamp(instant) => {
                Cow::Owned(timestamp_to_text(*instant).ok_or_else(|| {
                    self.error("the timestamp is outside the years 0000-9999".into())
                })?)
            }
            SqlValue::Null | SqlValue::Blob(_) => return Err(self.mismatch(value)),
        };
        if text.contains('\0') {
            return Err(self.error(
                "PostgreSQL text cannot contain NUL (U+0000) characters: remove them or store the value as bytea".into(),
            ));
        }
        Ok(text)
    }

    fn integer(&self, kind: PgKind, value: i64) -> Result<PgParam<'static>, SqlError> {
        let out_of_range = |_| {
            self.error(format!(
                "the integer is out of range for {}",
                self.ty.name()
            ))
        };
        Ok(match kind {
            PgKind::Int2 => PgParam::Int2(value.try_into().map_err(out_of_range)?),
            PgKind::Int4 => PgParam::Int4(value.try_into().map_err(out_of_range)?),
            _ => PgParam::Int8(value),
        })
    }

    fn float(&self, kind: PgKind, value: f64) -> Result<PgParam<'static>, SqlError> {
        match kind {
            PgKind::Float4 if value.is_finite() && !(value as f32).is_finite() => {
                Err(self.error("the number is out of range for float4".into()))
            }
            PgKind::Float4 => Ok(PgParam::Float4(value as f32)),
            _ => Ok(PgParam::Float8(value)),
        }
    }

    fn numeric(&self, text: &str) -> Result<PgParam<'static>, SqlError> {
        // Rust prints infinities as "inf", which `encode` takes like PostgreSQL's "Infinity".
        numeric::encode(text)
            .map(PgParam::Numeric)
            .ok_or_else(|| self.unparsable())
    }

    /// A timestamp, or RFC 3339 text.
    fn instant(&self, value: &SqlValue) -> Result<OffsetDateTime, SqlError> {
        match value {
            SqlValue::Timestamp(instant) => Ok(*instant),
            SqlValue::Text(text) => timestamp_from_text(text.trim()).ok_or_else(|| {
                self.error(format!(
                    "the text is not an RFC 3339 timestamp (2024-05-01T12:00:00Z) for {}",
                    self.ty.name()
                ))
            }),
            _ => Err(self.mismatch(value)),
        }
    }

    fn mismatch(&self, value: &SqlValue) -> SqlError {
        self.error(format!(
            "cannot bind a {} value to a placeholder of type {}",
            value.kind_name(),
            self.ty.name()
        ))
    }

    fn unparsable(&self) -> SqlError {
        self.error(format!("the text is not a valid {} value", self.ty.name()))
    }

    fn error(&self, problem: String) -> SqlError {
        SqlError::new(
            SqlErrorKind::InvalidValue,
            format!("parameter ${}: {problem}", self.number),
        )
    }
}

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            PgParam::Null => Ok(IsNull::Yes),
            PgParam::Bool(value) => value.to_sql(ty, out),
            PgParam::Int2(value) => value.to_sql(ty, out),
            PgParam::Int4(value) => value.to_sql(ty, out),
            PgParam::Int8(value) => value.to_sql(ty, out),
            PgParam::Float4(value) => value.to_sql(ty, out),
            PgParam::Float8(value) => value.to_sql(ty, out),
            PgParam::Text(text) => text.to_sql(ty, out),
            PgParam::Jsonb(text) => {
                out.put_u8(1);
                out.put_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            PgParam::Numeric(bytes) => {
                out.put_slice(bytes);
                Ok(IsNull::No)
            }
            PgParam::Bytea(bytes) => bytes.to_sql(ty, out),
            PgParam::Uuid(value) => value.to_sql(ty, out),
            PgParam::TimestampTz(value) => value.to_sql(ty, out),
            PgParam::Timestamp(value) => value.to_sql(ty, out),
            PgParam::Date(value) => value.to_sql(ty, out),
        }
    }

    /// Every type: [`Placeholder::convert`] already chose the encoding for this one.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
