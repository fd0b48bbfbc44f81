//! Conversions between the database's values and the contract's. An attribute's type is
//! decided once from its column's declared type; every value read is then converted to
//! that type, because SQLite hands back whatever a row happens to store (0/1 for a
//! BOOLEAN, text for a TIMESTAMP).

use ferry_connector::sql::SqlValue;
use ferry_connector::types::{Datetime, Value, ValueType};

/// The contract type of a column from the database's type name: SQLite's declared type
/// (`INTEGER`, `VARCHAR(40)`, `BOOLEAN`) or PostgreSQL's `udt_name` (`int4`, `bool`,
/// `timestamptz`). Unknown or empty type names are strings, which every value can become.
pub fn value_type_of(type_name: &str) -> ValueType {
    let upper = type_name.to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or_default().trim();
    let is_integer_word = |word: &str| {
        matches!(
            word,
            "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "MEDIUMINT" | "SERIAL"
        ) || word.starts_with("INT") && word[3..].chars().all(|c| c.is_ascii_digit())
            || word.ends_with("SERIAL") && matches!(&word[..word.len() - 6], "BIG" | "SMALL")
    };
    if base.starts_with("BOOL") {
        ValueType::Boolean
    } else if base.starts_with("TIMESTAMP") || base.starts_with("DATETIME") || base == "DATE" {
        ValueType::Datetime
    } else if base.contains("BLOB") || base == "BYTEA" {
        ValueType::Binary
    } else if base.split_whitespace().any(is_integer_word) {
        ValueType::Integer
    } else {
        ValueType::String
    }
}

/// A database value as a value of an attribute of type `value_type`; `None` for NULL
/// (an attribute without values). The error says what could not be converted, for a
/// message that also names the object and attribute.
pub fn from_sql(value: SqlValue, value_type: ValueType) -> Result<Option<Value>, String> {
    let value = match (value_type, value) {
        (_, SqlValue::Null) => return Ok(None),
        (ValueType::String, value) => Value::String(text_of(value)?),
        (ValueType::Reference, value) => Value::Reference(text_of(value)?),
        (ValueType::Integer, SqlValue::Integer(number)) => Value::Integer(number),
        (ValueType::Integer, SqlValue::Boolean(flag)) => Value::Integer(i64::from(flag)),
        (ValueType::Integer, SqlValue::Real(number))
            if number.fract() == 0.0 && number.abs() < 9.0e18 =>
        {
            // Exact: the value is whole and well inside the range of i64.
            Value::Integer(number as i64)
        }
        (ValueType::Integer, SqlValue::Text(text)) => Value::Integer(
            text.trim()
                .parse()
                .map_err(|_| format!("{text:?} is not an integer"))?,
        ),
        (ValueType::Boolean, value) => Value::Boolean(
            truth_of(&value).ok_or_else(|| format!("{} is not a truth value", describe(&value)))?,
        ),
        (ValueType::Binary, SqlValue::Blob(bytes)) => Value::Binary(bytes),
        (ValueType::Binary, SqlValue::Text(text)) => Value::Binary(text.into_bytes()),
        (ValueType::Datetime, SqlValue::Timestamp(at)) => Value::Datetime(at),
        (ValueType::Datetime, SqlValue::Text(text)) => Value::Datetime(
            Datetime::parse_rfc3339(&text).ok_or_else(|| format!("{text:?} is not a timestamp"))?,
        ),
        (ValueType::Datetime, SqlValue::Integer(seconds)) => {
            // SQLite's other common form: seconds since the epoch.
            Value::Datetime(Datetime {
                seconds,
                nanoseconds: 0,
            })
        }
        (value_type, value) => {
            return Err(format!(
                "{} cannot be read as {value_type:?}",
                describe(&value)
            ));
        }
    };
    Ok(Some(value))
}

/// A contract value as the database value to bind: a datetime becomes a `timestamp` (the
/// host writes it in the dialect's form), a reference its anchor text.
pub fn to_sql(value: &Value) -> SqlValue {
    match value {
        Value::String(text) | Value::Reference(text) => SqlValue::Text(text.clone()),
        Value::Integer(number) => SqlValue::Integer(*number),
        Value::Boolean(flag) => SqlValue::Boolean(*flag),
        Value::Binary(bytes) => SqlValue::Blob(bytes.clone()),
        Value::Datetime(at) => SqlValue::Timestamp(*at),
    }
}

/// How a value is written to a column of `stored_type`: a reference as the anchor it
/// names, in the column's own type (a foreign key is an integer in most schemas);
/// anything else as itself. An error naming `attribute` for a reference that cannot be
/// such an anchor.
pub fn stored(
    stored_type: ValueType,
    attribute: &str,
    value: &Value,
) -> Result<SqlValue, ferry_connector::Error> {
    match value {
        Value::Reference(anchor) => anchor_param(anchor, stored_type).ok_or_else(|| {
            ferry_connector::Error::invalid_input(format!(
                "'{anchor}' is not a key of the object '{attribute}' points to"
            ))
            .attribute(attribute)
        }),
        _ => Ok(to_sql(value)),
    }
}

/// The anchor string of an anchor column's value: integers in decimal, text as it is,
/// binary key columns in lowercase hex. It must not change between reads, because the
/// host uses it as the SCIM id.
pub fn anchor_of(value: &SqlValue) -> Result<String, String> {
    match value {
        SqlValue::Integer(number) => Ok(number.to_string()),
        SqlValue::Text(text) => Ok(text.clone()),
        SqlValue::Blob(bytes) => Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect()),
        other => Err(format!("{} cannot be an anchor", describe(other))),
    }
}

/// The value to bind for an anchor string, typed like the anchor column so that an
/// integer key is compared as an integer. `None` when the string cannot be a value of
/// that column, which means no such object exists.
pub fn anchor_param(anchor: &str, value_type: ValueType) -> Option<SqlValue> {
    match value_type {
        ValueType::Integer => anchor.parse().ok().map(SqlValue::Integer),
        ValueType::Binary => {
            let digits = anchor.as_bytes();
            if !digits.len().is_multiple_of(2) {
                return None;
            }
            digits
                .chunks(2)
                .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
                .collect::<Option<Vec<u8>>>()
                .map(SqlValue::Blob)
        }
        _ => Some(SqlValue::Text(anchor.to_owned())),
    }
}

/// Whether a soft-delete column's value marks the row deleted: true, non-zero, or a text
/// that reads as true. NULL and anything unreadable count as not deleted, which is what
/// the SQL filter of full imports (`IS NOT TRUE` / `COALESCE(…, 0) = 0`) does too.
pub fn is_marked_deleted(value: &SqlValue) -> bool {
    truth_of(value).unwrap_or(false)
}

/// A value as a truth value; `None` when it is not one.
fn truth_of(value: &SqlValue) -> Option<bool> {
    match value {
        SqlValue::Boolean(flag) => Some(*flag),
        SqlValue::Integer(number) => Some(*number != 0),
        SqlValue::Real(number) => Some(*number != 0.0),
        SqlValue::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "t" | "yes" | "y" => Some(true),
            "0" | "false" | "f" | "no" | "n" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A value as the text of a string attribute: numbers in decimal, timestamps in RFC 3339.
fn text_of(value: SqlValue) -> Result<String, String> {
    match value {
        SqlValue::Text(text) => Ok(text),
        SqlValue::Integer(number) => Ok(number.to_string()),
        SqlValue::Real(number) => Ok(number.to_string()),
        SqlValue::Boolean(flag) => Ok(flag.to_string()),
        SqlValue::Timestamp(at) => Ok(at.to_rfc3339()),
        SqlValue::Blob(bytes) => {
            String::from_utf8(bytes).map_err(|_| "a binary value that is not UTF-8 text".into())
        }
        SqlValue::Null => Err("NULL".into()),
    }
}

/// A short description of a value for messages; never the bytes of a binary value.
fn describe(value: &SqlValue) -> String {
    match value {
        SqlValue::Text(text) => format!("{text:?}"),
        SqlValue::Blob(bytes) => format!("a binary value of {} bytes", bytes.len()),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_the_type_from_the_declared_type_name() {
        let cases = [
            ("INTEGER", ValueType::Integer),
            ("int", ValueType::Integer),
            ("int4", ValueType::Integer),
            ("int8", ValueType::Integer),
            ("BIGINT", ValueType::Integer),
            ("UNSIGNED BIG INT", ValueType::Integer),
            ("bigserial", ValueType::Integer),
            ("BOOLEAN", ValueType::Boolean),
            ("bool", ValueType::Boolean),
            ("BLOB", ValueType::Binary),
            ("bytea", ValueType::Binary),
            ("TIMESTAMP", ValueType::Datetime),
            ("timestamptz", ValueType::Datetime),
            ("DATETIME", ValueType::Datetime),
            ("date", ValueType::Datetime),
            ("VARCHAR(40)", ValueType::String),
            ("TEXT", ValueType::String),
            ("", ValueType::String),
            ("interval", ValueType::String),
            ("int4range", ValueType::String),
            ("point", ValueType::String),
            ("REAL", ValueType::String),
            ("uuid", ValueType::String),
        ];
        for (name, expected) in cases {
            assert_eq!(value_type_of(name), expected, "{name:?}");
        }
    }

    #[test]
    fn reads_what_sqlite_stores_as_the_attribute_type() {
        let at = Datetime {
            seconds: 1_714_566_600,
            nanoseconds: 0,
        };
        let cases = [
            (
                SqlValue::Integer(1),
                ValueType::Boolean,
                Value::Boolean(true),
            ),
            (
                SqlValue::Integer(0),
                ValueType::Boolean,
                Value::Boolean(false),
            ),
            (
                SqlValue::Text("2024-05-01 12:30:00".into()),
                ValueType::Datetime,
                Value::Datetime(at),
            ),
            (
                SqlValue::Timestamp(at),
                ValueType::Datetime,
                Value::Datetime(at),
            ),
            (
                SqlValue::Integer(1_714_566_600),
                ValueType::Datetime,
                Value::Datetime(at),
            ),
            (
                SqlValue::Real(2.5),
                ValueType::String,
                Value::String("2.5".into()),
            ),
            (
                SqlValue::Integer(42),
                ValueType::String,
                Value::String("42".into()),
            ),
            (
                SqlValue::Text("42".into()),
                ValueType::Integer,
                Value::Integer(42),
            ),
            (SqlValue::Real(42.0), ValueType::Integer, Value::Integer(42)),
            (
                SqlValue::Blob(vec![0, 255]),
                ValueType::Binary,
                Value::Binary(vec![0, 255]),
            ),
            (
                SqlValue::Timestamp(at),
                ValueType::String,
                Value::String("2024-05-01T12:30:00Z".into()),
            ),
        ];
        for (sql, value_type, expected) in cases {
            assert_eq!(
                from_sql(sql.clone(), value_type),
                Ok(Some(expected)),
                "{sql:?}"
            );
        }
        assert_eq!(from_sql(SqlValue::Null, ValueType::Integer), Ok(None));
    }

    #[test]
    fn says_which_value_could_not_be_read() {
        let failure = from_sql(SqlValue::Text("soon".into()), ValueType::Datetime).unwrap_err();
        assert!(failure.contains("\"soon\""), "{failure}");
        assert!(from_sql(SqlValue::Real(1.5), ValueType::Integer).is_err());
        assert!(from_sql(SqlValue::Text("maybe".into()), ValueType::Boolean).is_err());
        assert!(from_sql(SqlValue::Blob(vec![0xff]), ValueType::String).is_err());
    }

    #[test]
    fn writes_contract_values_as_sql_values() {
        let at = Datetime {
            seconds: 5,
            nanoseconds: 6,
        };
        assert_eq!(to_sql(&Value::Datetime(at)), SqlValue::Timestamp(at));
        assert_eq!(to_sql(&Value::Boolean(true)), SqlValue::Boolean(true));
        assert_eq!(
            to_sql(&Value::Reference("7".into())),
            SqlValue::Text("7".into())
        );
        assert_eq!(to_sql(&Value::Binary(vec![1])), SqlValue::Blob(vec![1]));
    }

    #[test]
    fn anchors_round_trip_through_their_text() {
        assert_eq!(anchor_of(&SqlValue::Integer(-12)), Ok("-12".into()));
        assert_eq!(
            anchor_param("-12", ValueType::Integer),
            Some(SqlValue::Integer(-12))
        );
        assert_eq!(anchor_param("x", ValueType::Integer), None);
        assert_eq!(
            anchor_of(&SqlValue::Blob(vec![0x0a, 0xff])),
            Ok("0aff".into())
        );
        assert_eq!(
            anchor_param("0aff", ValueType::Binary),
            Some(SqlValue::Blob(vec![0x0a, 0xff]))
        );
        assert_eq!(anchor_param("0af", ValueType::Binary), None);
        assert_eq!(anchor_param("é", ValueType::Binary), None);
        assert_eq!(
            anchor_param("a'b", ValueType::String),
            Some(SqlValue::Text("a'b".into()))
        );
        assert!(anchor_of(&SqlValue::Null).is_err());
    }

    #[test]
    fn reads_soft_delete_markers() {
        assert!(is_marked_deleted(&SqlValue::Boolean(true)));
        assert!(is_marked_deleted(&SqlValue::Integer(2)));
        assert!(is_marked_deleted(&SqlValue::Text("true".into())));
        assert!(!is_marked_deleted(&SqlValue::Integer(0)));
        assert!(!is_marked_deleted(&SqlValue::Null));
        assert!(!is_marked_deleted(&SqlValue::Text("".into())));
    }
}
