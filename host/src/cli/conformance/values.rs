//! The values the suite writes and how it compares what it reads back: samples of each
//! value kind that differ per object and per step (so a write that did nothing is
//! caught), the hard strings (Unicode beyond the BMP, combining marks, right-to-left
//! text, a 64 KiB value), and comparisons that ignore the order of a multi-valued
//! attribute's values but nothing else.

use crate::runtime::bindings::types::{
    Attribute, Datetime, Object, ObjectTypeSchema, Value, ValueType,
};
use crate::runtime::convert::datetime_to_rfc3339;

/// The size of the large value: big enough to cross any 16-bit length field, small
/// enough for any target that stores text.
pub const LARGE_BYTES: usize = 64 * 1024;

/// A value of `kind` for object `seq`; `variant` 0 is what an add writes, 1 what a
/// replace writes, 2 and up extra values of a multi-valued attribute. `None` for
/// references, which need another object.
pub fn sample(kind: ValueType, run: &str, seq: u32, variant: u32) -> Option<Value> {
    Some(match kind {
        ValueType::String => Value::String(format!("{run}-{seq:02}-v{variant}")),
        // Within 32 bits, so an INT column takes it too.
        ValueType::Integer => Value::Integer(i64::from(100_000 + seq * 10 + variant)),
        ValueType::Boolean => Value::Boolean(variant % 2 == 1),
        ValueType::Datetime => Value::Datetime(Datetime {
            // 2021-03-04T05:06:07Z, then 1999-12-31T23:59:59Z, whole seconds (every
            // target keeps those) and apart per object.
            seconds: [1_614_834_367, 946_684_799][(variant % 2) as usize]
                + i64::from(seq) * 60
                + i64::from(variant / 2) * 3_600,
            nanoseconds: 0,
        }),
        // Not UTF-8, with a NUL and both high and low bytes.
        ValueType::Binary => Value::Binary(vec![
            0x00,
            0xff,
            0x80,
            0x7f,
            b'\n',
            0xc3,
            0x28,
            seq as u8,
            variant as u8,
        ]),
        ValueType::Reference => return None,
    })
}

/// Text with what text handling gets wrong: characters beyond the Basic Multilingual
/// Plane (UTF-16 surrogate pairs), a combining mark that must not be normalised away,
/// right-to-left scripts with a direction mark, mixed case, a double and a trailing space
/// (the contract: stored and returned exactly as given).
pub fn unicode(run: &str) -> String {
    format!(
        "{run} MiXed  \u{1F600}\u{1D11E}\u{20BB7} e\u{0301}a\u{0308} \u{05E9}\u{05DC}\u{05D5}\u{05DD} \
         \u{0645}\u{0631}\u{062D}\u{0628}\u{0627}\u{200F}! "
    )
}

/// Exactly [`LARGE_BYTES`] bytes of text, multi-byte characters included.
pub fn large(run: &str) -> String {
    let mut text = format!("{run} ");
    while text.len() < LARGE_BYTES - 16 {
        text.push_str("ferry conformance 0123456789 \u{e9}\u{20AC}\u{1D11E} ");
    }
    while text.len() < LARGE_BYTES {
        text.push('x');
    }
    text
}

/// One attribute with one value.
pub fn single(name: &str, value: Value) -> Attribute {
    Attribute {
        name: name.to_owned(),
        values: vec![value],
    }
}

/// The values of `name` in `object`; attribute names compare without regard to ASCII
/// case (LDAP's are case-insensitive). An absent attribute has no values.
pub fn values_of<'a>(object: &'a Object, name: &str) -> &'a [Value] {
    object
        .attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
        .map_or(&[], |a| a.values.as_slice())
}

/// Checks that `object` holds exactly the values of each attribute in `expected` (in any
/// order); other attributes are not looked at. The error names the first attribute that
/// differs and shows both sides.
pub fn expect_attributes(object: &Object, expected: &[Attribute]) -> Result<(), String> {
    for attribute in expected {
        let actual = values_of(object, &attribute.name);
        if !same_values(&attribute.values, actual) {
            return Err(format!(
                "attribute '{}': expected {}, read {}",
                attribute.name,
                show(&attribute.values),
                show(actual)
            ));
        }
    }
    Ok(())
}

/// Checks `object` against its type's schema, as the host relies on it: every attribute
/// is declared, every value has the declared type, a single-valued attribute has at most
/// one value, and a secret attribute never comes back.
pub fn expect_schema(object: &Object, schema: &ObjectTypeSchema) -> Result<(), String> {
    for attribute in &object.attributes {
        let Some(declared) = schema
            .attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&attribute.name))
        else {
            return Err(format!(
                "object '{}' has attribute '{}', which the schema of '{}' does not declare",
                object.anchor, attribute.name, schema.name
            ));
        };
        let problem = if declared.secret && !attribute.values.is_empty() {
            Some("is secret, so its values must never be returned".to_owned())
        } else if !declared.multi_valued && attribute.values.len() > 1 {
            Some(format!(
                "is single-valued but has {} values",
                attribute.values.len()
            ))
        } else {
            attribute
                .values
                .iter()
                .find(|v| type_of(v) != declared.value_type)
                .map(|v| {
                    format!(
                        "is declared {:?} but has the value {}",
                        declared.value_type,
                        show_one(v)
                    )
                })
        };
        if let Some(problem) = problem {
            return Err(format!(
                "object '{}': attribute '{}' {problem}",
                object.anchor, attribute.name
            ));
        }
    }
    Ok(())
}

fn type_of(value: &Value) -> ValueType {
    match value {
        Value::String(_) => ValueType::String,
        Value::Integer(_) => ValueType::Integer,
        Value::Boolean(_) => ValueType::Boolean,
        Value::Binary(_) => ValueType::Binary,
        Value::Datetime(_) => ValueType::Datetime,
        Value::Reference(_) => ValueType::Reference,
    }
}

/// Whether two lists hold the same values, in any order.
pub fn same_values(a: &[Value], b: &[Value]) -> bool {
    let key = |values: &[Value]| {
        let mut keys: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        keys.sort();
        keys
    };
    a.len() == b.len() && key(a) == key(b)
}

/// Values as a report shows them: long text cut, binary in hex, times in RFC 3339.
pub fn show(values: &[Value]) -> String {
    if values.is_empty() {
        return "no value".into();
    }
    let shown: Vec<String> = values.iter().map(show_one).collect();
    format!("[{}]", shown.join(", "))
}

fn show_one(value: &Value) -> String {
    const SHOWN: usize = 48;
    match value {
        Value::String(text) | Value::Reference(text) => {
            let cut = crate::runtime::state::truncate(text, SHOWN);
            let escaped = crate::runtime::state::printable(cut);
            if cut.len() < text.len() {
                format!("\"{escaped}…\" ({} bytes)", text.len())
            } else {
                format!("\"{escaped}\"")
            }
        }
        Value::Integer(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Binary(bytes) => format!("0x{} ({} bytes)", hex::encode(bytes), bytes.len()),
        Value::Datetime(at) => datetime_to_rfc3339(*at)
            .unwrap_or_else(|| format!("{}s+{}ns", at.seconds, at.nanoseconds)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_differ_per_object_and_step() {
        for kind in [
            ValueType::String,
            ValueType::Integer,
            ValueType::Boolean,
            ValueType::Datetime,
            ValueType::Binary,
        ] {
            let a = sample(kind, "r", 1, 0).unwrap();
            assert_ne!(Some(&a), sample(kind, "r", 1, 1).as_ref(), "{kind:?}");
            if kind != ValueType::Boolean {
                assert_ne!(Some(a), sample(kind, "r", 2, 0), "{kind:?}");
            }
        }
        assert_eq!(sample(ValueType::Reference, "r", 1, 0), None);
    }

    #[test]
    fn the_large_value_has_its_size_and_the_unicode_one_its_traps() {
        assert_eq!(large("run").len(), LARGE_BYTES);
        let text = unicode("run");
        assert!(text.chars().any(|c| c as u32 > 0xFFFF));
        assert!(text.contains('\u{0301}') && text.contains('\u{05E9}'));
    }

    #[test]
    fn compares_values_in_any_order_and_says_what_differs() {
        let s = |t: &str| Value::String(t.into());
        assert!(same_values(&[s("a"), s("b")], &[s("b"), s("a")]));
        assert!(!same_values(&[s("a")], &[s("a"), s("a")]));
        let object = Object {
            object_type: "user".into(),
            anchor: "1".into(),
            attributes: vec![single("Mail", s("x"))],
        };
        assert!(expect_attributes(&object, &[single("mail", s("x"))]).is_ok());
        let e = expect_attributes(&object, &[single("mail", s("y"))]).unwrap_err();
        assert_eq!(e, "attribute 'mail': expected [\"y\"], read [\"x\"]");
        let cleared = Attribute {
            name: "title".into(),
            values: vec![],
        };
        assert!(expect_attributes(&object, &[cleared]).is_ok());
        assert!(show(&[Value::String(large("r"))]).ends_with("(65536 bytes)]"));
    }
}
