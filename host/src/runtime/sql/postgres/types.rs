//! The PostgreSQL types Ferry converts, in both directions: binding a parameter and
//! reading a column accept the same set, so a value a connector reads it can write back.

use tokio_postgres::types::{Kind, Type};

/// How a PostgreSQL type's values travel (binary format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PgKind {
    /// `bool`.
    Bool,
    /// `int2`.
    Int2,
    /// `int4`.
    Int4,
    /// `int8`.
    Int8,
    /// `float4`.
    Float4,
    /// `float8`.
    Float8,
    /// `numeric`, as decimal text on Ferry's side.
    Numeric,
    /// Whatever travels as UTF-8 text: `text`, `varchar`, `bpchar`, `name`, `unknown`,
    /// `citext`, `json`, and enum types.
    Text,
    /// `jsonb`: a version byte, then the JSON text.
    Jsonb,
    /// `bytea`.
    Bytea,
    /// `uuid`, as text on Ferry's side.
    Uuid,
    /// `timestamptz`.
    TimestampTz,
    /// `timestamp` (without time zone), taken to be UTC.
    Timestamp,
    /// `date`, taken as midnight UTC.
    Date,
    /// `void`, what `SELECT a_procedure()` returns: read as null.
    Void,
}

/// The kind of `ty` (of a domain: of its base type), or `None` for a type Ferry does not
/// convert.
pub(super) fn kind_of(ty: &Type) -> Option<PgKind> {
    match ty.kind() {
        Kind::Domain(base) => return kind_of(base),
        Kind::Enum(_) => return Some(PgKind::Text),
        _ => {}
    }
    Some(match *ty {
        Type::BOOL => PgKind::Bool,
        Type::INT2 => PgKind::Int2,
        Type::INT4 => PgKind::Int4,
        Type::INT8 => PgKind::Int8,
        Type::FLOAT4 => PgKind::Float4,
        Type::FLOAT8 => PgKind::Float8,
        Type::NUMERIC => PgKind::Numeric,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
            PgKind::Text
        }
        Type::JSONB => PgKind::Jsonb,
        Type::BYTEA => PgKind::Bytea,
        Type::UUID => PgKind::Uuid,
        Type::TIMESTAMPTZ => PgKind::TimestampTz,
        Type::TIMESTAMP => PgKind::Timestamp,
        Type::DATE => PgKind::Date,
        Type::VOID => PgKind::Void,
        _ if ty.name() == "citext" => PgKind::Text,
        _ => return None,
    })
}
