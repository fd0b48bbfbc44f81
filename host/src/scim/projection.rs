//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes a response
//! carries. `id` and `schemas` are always returned.

use serde_json::{Map, Value};

use super::attr_json::{find_key, get};
use super::error::ScimError;
use super::path::AttrPath;
use super::schema::ResourceSchema;

/// The most attribute names one request may list; more is a client mistake.
pub const MAX_LISTED_ATTRIBUTES: usize = 100;

/// A parsed `attributes` or `excludedAttributes` parameter.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    only: Option<Vec<AttrPath>>,
    excluded: Vec<AttrPath>,
}

fn parse_list(text: &str) -> Result<Vec<AttrPath>, ScimError> {
    let paths: Vec<AttrPath> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(AttrPath::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| ScimError::invalid_value(e.detail))?;
    if paths.len() > MAX_LISTED_ATTRIBUTES {
        return Err(ScimError::invalid_value(format!(
            "at most {MAX_LISTED_ATTRIBUTES} attributes may be listed"
        )));
    }
    Ok(paths)
}

impl Projection {
    /// From the query parameters (either may be absent).
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Self, ScimError> {
        Ok(Self {
            only: attributes.map(parse_list).transpose()?,
            excluded: excluded.map(parse_list).transpose()?.unwrap_or_default(),
        })
    }

    /// Whether responses carry the top-level attribute `name`, so that a costly one (a
    /// group's members) is read only when asked for.
    pub fn includes(&self, name: &str) -> bool {
        let named = |p: &AttrPath| p.name.eq_ignore_ascii_case(name);
        if self.excluded.iter().any(|p| named(p) && p.sub.is_none()) {
            return false;
        }
        self.only.as_ref().is_none_or(|only| only.iter().any(named))
    }

    /// Applies the projection to a rendered resource.
    pub fn apply(&self, resource: Value, schema: &ResourceSchema) -> Value {
        let Value::Object(mut map) = resource else {
            return resource;
        };
        if let Some(only) = &self.only {
            let mut kept = Map::new();
            for key in ["schemas", "id"] {
                if let Some(v) = map.remove(key) {
                    kept.insert(key.to_string(), v);
                }
            }
            for path in only {
                copy_path(&map, &mut kept, path, schema);
            }
            map = kept;
        }
        for path in &self.excluded {
            if !path.name.eq_ignore_ascii_case("id") && !path.name.eq_ignore_ascii_case("schemas") {
                remove_path(&mut map, path, schema);
            }
        }
        Value::Object(map)
    }
}

/// The key of the object holding `path`'s attribute: the top level, or an extension.
fn container(path: &AttrPath, schema: &ResourceSchema) -> Option<String> {
    match &path.schema {
        Some(urn) if !urn.eq_ignore_ascii_case(&schema.core.id) => Some(urn.clone()),
        _ => None,
    }
}

fn copy_path(
    from: &Map<String, Value>,
    to: &mut Map<String, Value>,
    path: &AttrPath,
    schema: &ResourceSchema,
) {
    // `attributes=urn:…:enterprise:2.0:User` asks for the whole extension.
    let whole_urn = format!("{}:{}", path.schema.as_deref().unwrap_or(""), path.name);
    if let Some(key) = find_key(from, &whole_urn) {
        to.insert(key.clone(), from[&key].clone());
        return;
    }
    let (source, target) = match container(path, schema) {
        Some(urn) => match (
            find_key(from, &urn),
            from.get(&urn).or_else(|| get(from, &urn)),
        ) {
            (Some(key), Some(Value::Object(ext))) => {
                let target = to.entry(key).or_insert_with(|| Value::Object(Map::new()));
                (ext, target.as_object_mut().expect("inserted as object"))
            }
            _ => return,
        },
        None => (from, &mut *to),
    };
    let Some(key) = find_key(source, &path.name) else {
        return;
    };
    match (&path.sub, &source[&key]) {
        (None, v) => {
            target.insert(key, v.clone());
        }
        (Some(sub), Value::Object(inner)) => {
            if let Some(sub_key) = find_key(inner, sub) {
                let slot = target
                    .entry(key)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(slot) = slot.as_object_mut() {
                    slot.insert(sub_key.clone(), inner[&sub_key].clone());
                }
            }
        }
        (Some(sub), Value::Array(items)) => {
            let picked: Vec<Value> = items
                .iter()
                .filter_map(|i| get(i.as_object()?, sub).map(|v| (sub, v)))
                .map(|(s, v)| serde_json::json!({ s.clone(): v }))
                .collect();
            target.insert(key, Value::Array(picked));
        }
        _ => {}
    }
}

fn remove_path(map: &mut Map<String, Value>, path: &AttrPath, schema: &ResourceSchema) {
    let whole_urn = format!("{}:{}", path.schema.as_deref().unwrap_or(""), path.name);
    if let Some(key) = find_key(map, &whole_urn) {
        map.remove(&key);
        return;
    }
    let holder = match container(path, schema) {
        Some(urn) => match find_key(map, &urn).and_then(|k| map.get_mut(&k)) {
            Some(Value::Object(ext)) => ext,
            _ => return,
        },
        None => map,
    };
    let Some(key) = find_key(holder, &path.name) else {
        return;
    };
    match (&path.sub, holder.get_mut(&key)) {
        (None, _) => {
            holder.remove(&key);
        }
        (Some(sub), Some(Value::Object(inner))) => {
            if let Some(k) = find_key(inner, sub) {
                inner.remove(&k);
            }
        }
        (Some(sub), Some(Value::Array(items))) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(k) = find_key(item, sub) {
                    item.remove(&k);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, user_resource};

    fn resource() -> Value {
        json!({
            "schemas": ["s"], "id": "1", "userName": "a", "active": true,
            "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"type": "work", "value": "a@x"}],
            ENTERPRISE_USER_SCHEMA: {"department": "D", "employeeNumber": "7"},
            "meta": {"resourceType": "User"}
        })
    }

    #[test]
    fn attributes_keeps_only_what_is_asked_plus_id_and_schemas() {
        let p = Projection::parse(
            Some(&format!(
                "userName,name.givenName,emails.value,{ENTERPRISE_USER_SCHEMA}:department"
            )),
            None,
        )
        .unwrap();
        let r = p.apply(resource(), &user_resource(None));
        assert_eq!(
            r,
            json!({"schemas": ["s"], "id": "1", "userName": "a", "name": {"givenName": "A"},
                   "emails": [{"value": "a@x"}], ENTERPRISE_USER_SCHEMA: {"department": "D"}})
        );
    }

    #[test]
    fn excluded_attributes_removes_and_never_removes_id() {
        let p = Projection::parse(None, Some("emails,id,name.familyName,Meta")).unwrap();
        let r = p.apply(resource(), &user_resource(None));
        assert!(r.get("emails").is_none() && r.get("meta").is_none());
        assert_eq!(r["id"], "1");
        assert_eq!(r["name"], json!({"givenName": "A"}));
        let p = Projection::parse(None, Some(ENTERPRISE_USER_SCHEMA)).unwrap();
        assert!(
            p.apply(resource(), &user_resource(None))
                .get(ENTERPRISE_USER_SCHEMA)
                .is_none()
        );
    }

    #[test]
    fn bad_lists_are_invalid_values() {
        assert!(Projection::parse(Some("a b"), None).is_err());
        let long = vec!["a"; MAX_LISTED_ATTRIBUTES + 1].join(",");
        assert!(Projection::parse(None, Some(&long)).is_err());
    }
}
