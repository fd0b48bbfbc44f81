//! Rendering a cached object as a SCIM resource.

use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::values::{to_natural_json, to_scim};
use super::{MapEntry, Mapping};
use crate::runtime::bindings::types::{Attribute, Object};
use crate::scim::attr_json::object_mut;
use crate::scim::id;

/// What a rendered resource carries besides the object: its metadata.
#[derive(Debug, Clone)]
pub struct Meta<'a> {
    /// When the cache first held the object.
    pub created: OffsetDateTime,
    /// When it last changed.
    pub modified: OffsetDateTime,
    /// The resource type's endpoint URL, e.g. `https://h/apps/x/scim/v2/Users`.
    pub endpoint: &'a str,
}

/// The weak version (`meta.version`) of a resource last changed at `modified`: the cache
/// moves `modified` on whenever an object's stored attributes change, and only then, so
/// it tells versions apart without hashing the attributes on every read.
fn version(modified: OffsetDateTime) -> String {
    format!("W/\"{:x}\"", modified.unix_timestamp_nanos())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Mapping {
    /// The SCIM resource for `object`: `id` from the anchor, every mapped attribute, the
    /// target extension with every non-secret attribute, and `meta`. Secret attributes
    /// are never rendered.
    pub fn render(&self, object: &Object, meta: &Meta<'_>) -> Json {
        let mut resource = Map::new();
        let id = id::encode(&object.anchor);
        resource.insert("id".into(), json!(id));
        for entry in &self.entries {
            if entry.attribute.secret {
                continue;
            }
            if let Some(attribute) = object
                .attributes
                .iter()
                .find(|a| a.name == entry.attribute.name)
            {
                place(&mut resource, entry, attribute);
            }
        }
        let target = self.render_target(object);
        let mut schemas = vec![json!(self.schema.core.id)];
        for ext in &self.schema.extensions {
            if resource.contains_key(&ext.id) {
                schemas.push(json!(ext.id));
            }
        }
        if !target.is_empty() {
            schemas.push(json!(self.target_urn));
            resource.insert(self.target_urn.clone(), Json::Object(target));
        }
        resource.insert("schemas".into(), Json::Array(schemas));
        resource.insert(
            "meta".into(),
            json!({
                "resourceType": self.schema.resource_type,
                "created": rfc3339(meta.created),
                "lastModified": rfc3339(meta.modified),
                "location": format!("{}/{id}", meta.endpoint),
                "version": version(meta.modified),
            }),
        );
        Json::Object(resource)
    }

    fn render_target(&self, object: &Object) -> Map<String, Json> {
        let mut target = Map::new();
        for schema in self.target_attributes.iter().filter(|a| !a.secret) {
            let Some(attribute) = object.attributes.iter().find(|a| a.name == schema.name) else {
                continue;
            };
            let values: Vec<Json> = attribute
                .values
                .iter()
                .filter_map(to_natural_json)
                .collect();
            let value = if schema.multi_valued {
                Json::Array(values)
            } else {
                match values.into_iter().next() {
                    Some(v) => v,
                    None => continue,
                }
            };
            if value != json!([]) {
                target.insert(schema.name.clone(), value);
            }
        }
        target
    }
}

/// Puts one mapped attribute's values where the entry says.
fn place(resource: &mut Map<String, Json>, entry: &MapEntry, attribute: &Attribute) {
    let values: Vec<Json> = attribute
        .values
        .iter()
        .filter_map(|v| to_scim(v, entry.leaf))
        .collect();
    if values.is_empty() {
        return;
    }
    let holder = match &entry.container {
        Some(urn) => object_mut(resource, urn),
        None => resource,
    };
    match (&entry.sub, entry.multi) {
        (None, _) => {
            holder.insert(
                entry.name.clone(),
                values.into_iter().next().unwrap_or(Json::Null),
            );
        }
        (Some(sub), false) => {
            object_mut(holder, &entry.name)
                .insert(sub.clone(), values.into_iter().next().unwrap_or(Json::Null));
        }
        (Some(sub), true) => {
            let list = holder
                .entry(entry.name.clone())
                .or_insert_with(|| json!([]));
            if let Json::Array(list) = list {
                for value in values {
                    let mut element = Map::new();
                    if let Some(t) = &entry.type_filter {
                        element.insert("type".into(), json!(t));
                    }
                    element.insert(sub.clone(), value);
                    list.push(Json::Object(element));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::mapping;
    use super::*;
    use crate::runtime::bindings::types::Value;
    use crate::scim::schema::ENTERPRISE_USER_SCHEMA;

    pub(crate) fn alice() -> Object {
        let a = |n: &str, v: Value| Attribute {
            name: n.into(),
            values: vec![v],
        };
        Object {
            object_type: "user".into(),
            anchor: "7".into(),
            attributes: vec![
                a("id", Value::Integer(7)),
                a("user_name", Value::String("alice@example.org".into())),
                a("active", Value::Integer(1)),
                a("given_name", Value::String("Alice".into())),
                a("email", Value::String("alice@example.org".into())),
                a("employee_number", Value::String("0042".into())),
                a("manager_id", Value::Reference("3".into())),
                a("password", Value::String("never shown".into())),
                Attribute {
                    name: "nicknames".into(),
                    values: vec![Value::String("al".into()), Value::String("ali".into())],
                },
            ],
        }
    }

    #[test]
    fn renders_mapped_extension_and_meta() {
        let m = mapping(&[]);
        let t = OffsetDateTime::UNIX_EPOCH;
        let r = m.render(
            &alice(),
            &Meta {
                created: t,
                modified: t,
                endpoint: "https://h/apps/a/scim/v2/Users",
            },
        );
        assert_eq!(r["id"], "7");
        assert_eq!(r["userName"], "alice@example.org");
        assert_eq!(r["active"], true);
        assert_eq!(r["name"]["givenName"], "Alice");
        assert_eq!(
            r["emails"],
            json!([{"type": "work", "value": "alice@example.org"}])
        );
        assert_eq!(r[ENTERPRISE_USER_SCHEMA]["employeeNumber"], "0042");
        assert_eq!(r[ENTERPRISE_USER_SCHEMA]["manager"]["value"], "3");
        let target = &r[&m.target_urn];
        assert_eq!(target["nicknames"], json!(["al", "ali"]));
        assert_eq!(target["active"], 1);
        assert!(
            !r.to_string().contains("never shown"),
            "secrets are never rendered"
        );
        assert_eq!(r["meta"]["location"], "https://h/apps/a/scim/v2/Users/7");
        assert_eq!(r["meta"]["resourceType"], "User");
        let schemas = r["schemas"].as_array().unwrap();
        assert_eq!(schemas.len(), 3);
    }

    #[test]
    fn version_changes_with_modified_only() {
        let m = mapping(&[]);
        let version = |modified: OffsetDateTime| {
            let meta = Meta {
                created: OffsetDateTime::UNIX_EPOCH,
                modified,
                endpoint: "https://h/apps/a/scim/v2/Users",
            };
            m.render(&alice(), &meta)["meta"]["version"].clone()
        };
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1);
        assert_eq!(version(t), json!("W/\"3b9aca00\""));
        assert_eq!(version(t), version(t));
        assert_ne!(version(t), version(t + time::Duration::nanoseconds(1)));
    }
}
