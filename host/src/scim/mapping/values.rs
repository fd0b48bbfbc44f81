//! Value conversions between SCIM JSON and the contract's typed values: what a SCIM
//! client sends becomes the type the target's attribute has, and what the target holds
//! becomes the type the SCIM attribute has (a SQLite 0/1 becomes `active: true`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value as Json, json};

use crate::runtime::bindings::types::{Value, ValueType};
use crate::runtime::convert::{datetime_to_rfc3339, rfc3339_to_datetime};
use crate::scim::attr_json::parse_bool;
use crate::scim::error::ScimError;
use crate::scim::id;
use crate::scim::schema::AttrType;

/// Converts one SCIM value to the target attribute's type. `path` names the SCIM
/// attribute in errors.
pub fn to_connector(json: &Json, ty: ValueType, path: &str) -> Result<Value, ScimError> {
    let wrong = |what: &str| ScimError::invalid_value(format!("'{path}': {what}"));
    Ok(match (ty, json) {
        (ValueType::String, Json::String(s)) => Value::String(s.clone()),
        (ValueType::String, Json::Bool(b)) => Value::String(b.to_string()),
        (ValueType::String, Json::Number(n)) => Value::String(n.to_string()),
        (ValueType::Integer, Json::Number(n)) => {
            Value::Integer(n.as_i64().ok_or_else(|| wrong("expected a whole number"))?)
        }
        (ValueType::Integer, Json::String(s)) => Value::Integer(
            s.trim()
                .parse()
                .map_err(|_| wrong("expected a whole number"))?,
        ),
        (ValueType::Integer, Json::Bool(b)) => Value::Integer(i64::from(*b)),
        (ValueType::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        (ValueType::Boolean, Json::String(s)) => {
            Value::Boolean(parse_bool(s).ok_or_else(|| wrong("expected true or false"))?)
        }
        (ValueType::Boolean, Json::Number(n)) => match n.as_i64() {
            Some(0) => Value::Boolean(false),
            Some(1) => Value::Boolean(true),
            _ => return Err(wrong("expected true or false")),
        },
        (ValueType::Datetime, Json::String(s)) => Value::Datetime(
            rfc3339_to_datetime(s)
                .ok_or_else(|| wrong("expected a date and time such as 2026-11-27T10:00:00Z"))?,
        ),
        (ValueType::Binary, Json::String(s)) => {
            Value::Binary(STANDARD.decode(s).map_err(|_| wrong("expected base64"))?)
        }
        (ValueType::Reference, Json::String(s)) => Value::Reference(
            id::decode(s)
                .ok_or_else(|| wrong(&format!("'{s}' is not the id of a resource here")))?,
        ),
        (ValueType::Reference, Json::Object(o)) => {
            match o.iter().find(|(k, _)| k.eq_ignore_ascii_case("value")) {
                Some((_, v)) => return to_connector(v, ty, path),
                None => return Err(wrong("a reference needs a value (the id of a resource)")),
            }
        }
        (_, Json::Array(_) | Json::Object(_)) => return Err(wrong("expected a single value")),
        _ => return Err(wrong(&format!("expected {}", type_word(ty)))),
    })
}

fn type_word(ty: ValueType) -> &'static str {
    match ty {
        ValueType::String => "text",
        ValueType::Integer => "a whole number",
        ValueType::Boolean => "true or false",
        ValueType::Binary => "base64",
        ValueType::Datetime => "a date and time",
        ValueType::Reference => "the id of a resource",
    }
}

/// Converts a target value to a SCIM attribute of type `leaf`; `None` when it has no
/// sensible SCIM form (it is then left out rather than shown wrong).
pub fn to_scim(value: &Value, leaf: AttrType) -> Option<Json> {
    Some(match (leaf, value) {
        (AttrType::Boolean, Value::Boolean(b)) => json!(b),
        (AttrType::Boolean, Value::Integer(i)) => json!(*i != 0),
        (AttrType::Boolean, Value::String(s)) => json!(parse_bool(s)?),
        (AttrType::Integer | AttrType::Decimal, Value::Integer(i)) => json!(i),
        (AttrType::Integer | AttrType::Decimal, Value::String(s)) => {
            json!(s.trim().parse::<i64>().ok()?)
        }
        (_, Value::Datetime(dt)) => json!(datetime_to_rfc3339(*dt)?),
        (_, Value::Binary(b)) => json!(STANDARD.encode(b)),
        (_, Value::Reference(anchor)) => json!(id::encode(anchor)),
        (_, Value::String(s)) => json!(s),
        (_, Value::Integer(i)) => json!(i.to_string()),
        (_, Value::Boolean(b)) => json!(b.to_string()),
    })
}

/// A target value in its own natural JSON form, for the target extension.
pub fn to_natural_json(value: &Value) -> Option<Json> {
    Some(match value {
        Value::String(s) => json!(s),
        Value::Integer(i) => json!(i),
        Value::Boolean(b) => json!(b),
        Value::Datetime(dt) => json!(datetime_to_rfc3339(*dt)?),
        Value::Binary(b) => json!(STANDARD.encode(b)),
        Value::Reference(anchor) => json!(id::encode(anchor)),
    })
}

/// The SCIM type a target attribute is shown as in the target extension.
pub fn scim_type_of(ty: ValueType) -> AttrType {
    match ty {
        ValueType::String => AttrType::String,
        ValueType::Integer => AttrType::Integer,
        ValueType::Boolean => AttrType::Boolean,
        ValueType::Binary => AttrType::Binary,
        ValueType::Datetime => AttrType::DateTime,
        ValueType::Reference => AttrType::Reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_entra_sends() {
        assert_eq!(
            to_connector(&json!("False"), ValueType::Boolean, "active").unwrap(),
            Value::Boolean(false)
        );
        assert_eq!(
            to_connector(&json!(1), ValueType::Boolean, "active").unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            to_connector(&json!(true), ValueType::Integer, "active").unwrap(),
            Value::Integer(1)
        );
        assert_eq!(
            to_connector(&json!("42"), ValueType::Integer, "n").unwrap(),
            Value::Integer(42)
        );
        assert_eq!(
            to_connector(&json!(42), ValueType::String, "n").unwrap(),
            Value::String("42".into())
        );
        assert_eq!(
            to_connector(&json!({"value": "17"}), ValueType::Reference, "manager").unwrap(),
            Value::Reference("17".into())
        );
    }

    #[test]
    fn refuses_wrong_types_naming_the_path() {
        for (json, ty) in [
            (json!("maybe"), ValueType::Boolean),
            (json!("4x"), ValueType::Integer),
            (json!(1.5), ValueType::Integer),
            (json!(["a"]), ValueType::String),
            (json!("yesterday"), ValueType::Datetime),
            (json!("not base64!"), ValueType::Binary),
            (json!("a b"), ValueType::Reference),
        ] {
            let e = to_connector(&json, ty, "urn:x:attr").unwrap_err();
            assert!(e.detail.contains("urn:x:attr"), "{e}");
        }
    }

    #[test]
    fn shows_target_values_in_the_scim_type() {
        assert_eq!(
            to_scim(&Value::Integer(1), AttrType::Boolean),
            Some(json!(true))
        );
        assert_eq!(
            to_scim(&Value::Integer(7), AttrType::String),
            Some(json!("7"))
        );
        assert_eq!(to_scim(&Value::String("x".into()), AttrType::Boolean), None);
        assert_eq!(
            to_scim(&Value::Reference("uid=a,dc=x".into()), AttrType::String),
            Some(json!(id::encode("uid=a,dc=x")))
        );
    }
}
