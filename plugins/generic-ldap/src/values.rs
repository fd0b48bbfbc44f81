//! Attribute values between LDAP's octet strings and the contract's typed values: the
//! schema's type decides how the server's bytes are read (RFC 4517 forms: decimal
//! INTEGER, TRUE/FALSE, GeneralizedTime), and each contract value is written in the form
//! the server expects for it.

use ferry_connector::types::{Datetime, Value, ValueType};

/// The server's bytes as a value of `value_type`; the reason when they are not one. Text
/// and binary values keep the bytes they were given.
pub fn from_ldap(bytes: Vec<u8>, value_type: ValueType) -> Result<Value, String> {
    let text = || std::str::from_utf8(&bytes).map_err(|_| "not UTF-8".to_owned());
    Ok(match value_type {
        ValueType::Integer => Value::Integer(
            text()?
                .parse()
                .map_err(|_| format!("{:?} is not an integer", String::from_utf8_lossy(&bytes)))?,
        ),
        ValueType::Boolean => match text()? {
            "TRUE" => Value::Boolean(true),
            "FALSE" => Value::Boolean(false),
            other => return Err(format!("{other:?} is not TRUE or FALSE")),
        },
        ValueType::Datetime => Value::Datetime(
            Datetime::parse_generalized_time(text()?)
                .ok_or_else(|| format!("{:?} is not a GeneralizedTime", text().unwrap_or("")))?,
        ),
        ValueType::Binary => Value::Binary(bytes),
        ValueType::String | ValueType::Reference => {
            Value::String(String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?)
        }
    })
}

/// A contract value as the bytes the server stores.
pub fn to_ldap(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) | Value::Reference(text) => text.as_bytes().to_vec(),
        Value::Integer(number) => number.to_string().into_bytes(),
        Value::Boolean(true) => b"TRUE".to_vec(),
        Value::Boolean(false) => b"FALSE".to_vec(),
        Value::Binary(bytes) => bytes.clone(),
        Value::Datetime(at) => at.to_generalized_time().into_bytes(),
    }
}

/// A value as text for a DN template: only text and numbers make RDN values.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Integer(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_type_from_its_ldap_form() {
        assert_eq!(
            from_ldap("Zoë 😀".into(), ValueType::String),
            Ok(Value::String("Zoë 😀".into()))
        );
        assert_eq!(
            from_ldap(b"-42".to_vec(), ValueType::Integer),
            Ok(Value::Integer(-42))
        );
        assert_eq!(
            from_ldap(b"TRUE".to_vec(), ValueType::Boolean),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            from_ldap(b"FALSE".to_vec(), ValueType::Boolean),
            Ok(Value::Boolean(false))
        );
        assert_eq!(
            from_ldap(b"20240501120000Z".to_vec(), ValueType::Datetime),
            Ok(Value::Datetime(Datetime {
                seconds: 1_714_564_800,
                nanoseconds: 0
            }))
        );
        assert_eq!(
            from_ldap(vec![0, 255, 1], ValueType::Binary),
            Ok(Value::Binary(vec![0, 255, 1]))
        );
        assert_eq!(
            from_ldap(b"with\0nul".to_vec(), ValueType::String),
            Ok(Value::String("with\0nul".into()))
        );
    }

    #[test]
    fn refuses_bytes_that_are_not_of_the_type() {
        assert!(from_ldap(b"4x".to_vec(), ValueType::Integer).is_err());
        assert!(from_ldap(b"true".to_vec(), ValueType::Boolean).is_err());
        assert!(from_ldap(b"yesterday".to_vec(), ValueType::Datetime).is_err());
        assert!(from_ldap(vec![0xff], ValueType::String).is_err());
    }

    #[test]
    fn writes_each_value_in_its_ldap_form_and_round_trips() {
        let values = [
            (Value::String("a,b 😀".into()), ValueType::String),
            (Value::Integer(i64::MIN), ValueType::Integer),
            (Value::Boolean(true), ValueType::Boolean),
            (Value::Boolean(false), ValueType::Boolean),
            (Value::Binary(vec![0, 1, 2]), ValueType::Binary),
            (
                Value::Datetime(Datetime {
                    seconds: 1_714_564_800,
                    nanoseconds: 500_000_000,
                }),
                ValueType::Datetime,
            ),
        ];
        for (value, value_type) in values {
            assert_eq!(from_ldap(to_ldap(&value), value_type), Ok(value));
        }
        assert_eq!(to_ldap(&Value::Boolean(true)), b"TRUE");
        assert_eq!(to_ldap(&Value::Reference("x".into())), b"x");
    }

    #[test]
    fn only_text_and_numbers_name_an_entry() {
        assert_eq!(as_text(&Value::String("a".into())), Some("a".into()));
        assert_eq!(as_text(&Value::Integer(7)), Some("7".into()));
        assert_eq!(as_text(&Value::Boolean(true)), None);
        assert_eq!(as_text(&Value::Binary(vec![1])), None);
    }
}
