//! An object's anchor and its key. The key is the values of the anchor column(s) as the
//! database stores them; the anchor is the one string the host keeps for it: the value's
//! text for a one-column key (as it always was, so existing anchors stay valid), and the
//! JSON array of the parts' texts for a composite key (`["acme","ann"]`), which holds any
//! characters and cannot be read two ways.

use ferry_connector::sql::SqlValue;
use ferry_connector::types::ValueType;

use crate::values::{anchor_of, anchor_param};

/// The values of an object's anchor columns, in anchor order, as bound and as read.
pub type Key = Vec<SqlValue>;

/// The anchor string of a key; an error saying which value cannot be part of one (NULL,
/// a real number).
pub fn encode(key: &[SqlValue]) -> Result<String, String> {
    let parts = key.iter().map(anchor_of).collect::<Result<Vec<_>, _>>()?;
    match <[String; 1]>::try_from(parts) {
        Ok([bare]) => Ok(bare),
        Err(parts) => {
            serde_json::to_string(&parts).map_err(|failure| format!("unencodable: {failure}"))
        }
    }
}

/// The key an anchor string names, each part typed like its column (`types`, in anchor
/// order) so that an integer key is compared as an integer. `None` when the string cannot
/// name a key of these columns, which means no such object exists: a part that is no
/// value of its column, a composite anchor that is not a JSON array of as many strings,
/// or one not written exactly as [`encode`] writes it (so one key has one anchor).
pub fn decode(anchor: &str, types: &[ValueType]) -> Option<Key> {
    if let [value_type] = types {
        return Some(vec![anchor_param(anchor, *value_type)?]);
    }
    let parts: Vec<String> = serde_json::from_str(anchor).ok()?;
    if parts.len() != types.len() || serde_json::to_string(&parts).ok()? != anchor {
        return None;
    }
    parts
        .iter()
        .zip(types)
        .map(|(part, value_type)| anchor_param(part, *value_type))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> SqlValue {
        SqlValue::Text(value.into())
    }

    #[test]
    fn a_one_column_anchor_is_the_bare_value() {
        assert_eq!(encode(&[SqlValue::Integer(7)]), Ok("7".into()));
        assert_eq!(
            decode("7", &[ValueType::Integer]),
            Some(vec![SqlValue::Integer(7)])
        );
        // Text that looks like a composite anchor is still one value.
        let lookalike = r#"["acme","ann"]"#;
        assert_eq!(encode(&[text(lookalike)]), Ok(lookalike.into()));
        assert_eq!(
            decode(lookalike, &[ValueType::String]),
            Some(vec![text(lookalike)])
        );
    }

    #[test]
    fn a_composite_anchor_is_a_json_array_of_the_parts_texts() {
        let key = vec![text("acme"), SqlValue::Integer(42)];
        assert_eq!(encode(&key), Ok(r#"["acme","42"]"#.into()));
        assert_eq!(
            decode(r#"["acme","42"]"#, &[ValueType::String, ValueType::Integer]),
            Some(key)
        );
    }

    #[test]
    fn composite_anchors_round_trip_any_characters() {
        let types = [ValueType::String, ValueType::String, ValueType::Binary];
        for parts in [
            ["a,b", "c\",\"d", "0aff"],
            ["\"quoted\" 'single'", "back\\slash", ""],
            ["😀 𝄞 é", "[\"nested\"]", "00"],
            ["", "", ""],
            ["nul \0 and\nnewline", "]", "ff"],
        ] {
            let key = vec![
                text(parts[0]),
                text(parts[1]),
                decode(parts[2], &[ValueType::Binary]).unwrap().remove(0),
            ];
            let anchor = encode(&key).unwrap();
            assert_eq!(decode(&anchor, &types), Some(key), "{anchor}");
        }
    }

    #[test]
    fn refuses_what_names_no_key() {
        let two = [ValueType::String, ValueType::Integer];
        for anchor in [
            "acme",
            r#"["acme"]"#,
            r#"["acme","1","2"]"#,
            r#"["acme",1]"#,
            r#"["acme","x"]"#,
            r#"[ "acme", "1" ]"#,
            r#"{"a":"b"}"#,
        ] {
            assert_eq!(decode(anchor, &two), None, "{anchor}");
        }
        assert!(encode(&[text("a"), SqlValue::Null]).is_err());
        assert!(encode(&[SqlValue::Null]).is_err());
    }
}
