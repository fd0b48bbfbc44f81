//! How SCIM attributes sit in a resource's JSON, shared by filter evaluation and PATCH so
//! both read and write the same places: core and common attributes at the top level,
//! extension attributes inside an object under the extension's URN, attribute names
//! compared without case (RFC 7643 §2.1), and the value rules both need (what counts as
//! empty, Entra ID's `"True"` / `"False"` strings, RFC 3339 instants).

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::path::AttrPath;
use super::schema::ResourceSchema;

/// The key under which `name` is stored in `map`, compared without case. An exact match
/// wins, so a map holding both `userName` and `username` still answers predictably.
pub(crate) fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// The value stored under `name`, compared without case.
pub(crate) fn get<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The value stored under `name`, mutably, compared without case.
pub(crate) fn get_mut<'m>(map: &'m mut Map<String, Value>, name: &str) -> Option<&'m mut Value> {
    let key = find_key(map, name)?;
    map.get_mut(&key)
}

/// Removes the value stored under `name`, compared without case.
pub(crate) fn remove(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(map, name)?;
    map.remove(&key)
}

/// Stores `value` under `name`, keeping the key's existing spelling when there is one;
/// an empty value (see [`is_empty`]) removes the attribute instead, since SCIM treats an
/// unassigned attribute and an empty one alike (RFC 7643 §2.5).
pub(crate) fn store(map: &mut Map<String, Value>, name: &str, value: Value) {
    if is_empty(&value) {
        remove(map, name);
        return;
    }
    let key = find_key(map, name).unwrap_or_else(|| name.to_string());
    map.insert(key, value);
}

/// The object stored under `name`, created (or made an object) when it is not one.
pub(crate) fn object_mut<'m>(
    map: &'m mut Map<String, Value>,
    name: &str,
) -> &'m mut Map<String, Value> {
    let key = find_key(map, name).unwrap_or_else(|| name.to_string());
    as_object(map.entry(key).or_insert(Value::Null))
}

/// `slot` as an object, replacing whatever else it held with an empty one.
pub(crate) fn as_object(slot: &mut Value) -> &mut Map<String, Value> {
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("the slot was made an object just above"),
    }
}

/// True for the values SCIM treats as unassigned: null, "", [] and {} (RFC 7643 §2.5);
/// `pr` is their negation and PATCH removes an attribute set to one of them.
pub(crate) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// What a value stands for when compared or matched: an object's `value` sub-attribute
/// (`emails eq "x"`, removing `members` by `[{"value": id}]`), anything else itself.
pub(crate) fn value_of(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(o) => get(o, "value"),
        other => Some(other),
    }
}

/// Reads Entra ID's string booleans: "true" / "false" in any case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses an xsd:dateTime as RFC 3339, the form SCIM uses (RFC 7643 §2.3.5).
pub(crate) fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The URN of the extension object that holds the attribute `path` names, or `None` when
/// the attribute sits at the top level. Unknown attributes with a URN other than the core
/// schema's are looked for under that URN.
pub(crate) fn extension_key<'a>(path: &'a AttrPath, schema: &'a ResourceSchema) -> Option<&'a str> {
    match schema.resolve(path) {
        Some(resolved) => (!resolved.is_core).then_some(resolved.schema.id.as_str()),
        None => path
            .schema
            .as_deref()
            .filter(|urn| !urn.eq_ignore_ascii_case(&schema.core.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, user_resource};
    use serde_json::json;

    #[test]
    fn keys_are_found_without_case_and_keep_their_spelling() {
        let mut map = json!({"userName": "a", "Name": {"givenName": "b"}})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(get(&map, "USERNAME"), Some(&json!("a")));
        store(&mut map, "username", json!("c"));
        assert_eq!(map.get("userName"), Some(&json!("c")));
        object_mut(&mut map, "name").insert("familyName".into(), json!("d"));
        assert_eq!(map["Name"]["familyName"], json!("d"));
        store(&mut map, "userName", json!(""));
        assert!(get(&map, "userName").is_none());
        assert_eq!(
            remove(&mut map, "NAME").map(|v| v["givenName"].clone()),
            Some(json!("b"))
        );
    }

    #[test]
    fn empty_values_and_string_booleans() {
        for empty in [json!(null), json!(""), json!([]), json!({})] {
            assert!(is_empty(&empty));
        }
        for full in [json!(false), json!(0), json!(" "), json!([null])] {
            assert!(!is_empty(&full));
        }
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert!(parse_instant("2024-05-01T10:00:00+02:00").is_some());
        assert!(parse_instant("2024-05-01").is_none());
    }

    #[test]
    fn extension_attributes_live_under_their_urn() {
        let users = user_resource(None);
        let short = AttrPath::parse("employeeNumber").unwrap();
        assert_eq!(extension_key(&short, &users), Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!(
            extension_key(&AttrPath::parse("userName").unwrap(), &users),
            None
        );
        let core_id = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:id").unwrap();
        assert_eq!(extension_key(&core_id, &users), None);
        let unknown = AttrPath::parse("urn:example:ext:color").unwrap();
        assert_eq!(extension_key(&unknown, &users), Some("urn:example:ext"));
    }
}
