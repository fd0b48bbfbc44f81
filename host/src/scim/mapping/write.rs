//! Turning SCIM resources into what a connector writes: the attributes of an add, or the
//! per-attribute changes between a resource before and after a PUT or PATCH.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::values::to_connector;
use super::{MapEntry, Mapping};
use crate::runtime::bindings::types::{Attribute, AttributeChange, AttributeSchema, Value};
use crate::scim::attr_json::{get, parse_bool};
use crate::scim::error::ScimError;

/// The attribute changes of an update, ready for the connector.
pub type Changes = Vec<AttributeChange>;

/// The values a resource states for each connector attribute, by where it states them.
struct Stated {
    /// From mapped SCIM attributes.
    mapped: BTreeMap<String, Vec<Value>>,
    /// From the target extension; `None` when the resource has no such object.
    target: Option<BTreeMap<String, Vec<Value>>>,
}

impl Mapping {
    /// The attributes to add for a new resource (a POST body). Read-only attributes are
    /// left out; a value stated twice (mapped and in the target extension) must agree.
    pub fn attributes_for_add(&self, resource: &Json) -> Result<Vec<Attribute>, ScimError> {
        let stated = self.stated(resource)?;
        let mut attributes = Vec::new();
        for schema in self.writable() {
            let mapped = stated.mapped.get(&schema.name).filter(|v| !v.is_empty());
            let target = stated
                .target
                .as_ref()
                .and_then(|t| t.get(&schema.name))
                .filter(|v| !v.is_empty());
            let values = match (mapped, target) {
                (Some(m), Some(t)) if m != t => return Err(disagree(&schema.name)),
                (Some(v), _) | (None, Some(v)) => v.clone(),
                (None, None) => continue,
            };
            attributes.push(Attribute {
                name: schema.name.clone(),
                values,
            });
        }
        Ok(attributes)
    }

    /// The changes that turn `before` (the resource as rendered from the cache, whose
    /// object holds `current`) into `after` (the same resource after a PATCH, or a PUT
    /// body). Only attributes whose SCIM form changed are touched; multi-valued ones
    /// change by value (add / remove), so a large list is never rewritten whole.
    pub fn changes(
        &self,
        before: &Json,
        after: &Json,
        current: &[Attribute],
    ) -> Result<Changes, ScimError> {
        let (old, new) = (self.stated(before)?, self.stated(after)?);
        let mut changes = Vec::new();
        for schema in self.writable() {
            let name = &schema.name;
            let mapped_changed = old.mapped.get(name) != new.mapped.get(name);
            let target_new = new.target.as_ref().map(|t| t.get(name));
            let target_changed =
                target_new.is_some_and(|n| n != old.target.as_ref().and_then(|t| t.get(name)));
            let wanted: Vec<Value> = match (mapped_changed, target_changed) {
                (false, false) => continue,
                (true, false) => new.mapped.get(name).cloned().unwrap_or_default(),
                (false, true) => target_new.flatten().cloned().unwrap_or_default(),
                (true, true) => {
                    let (m, t) = (new.mapped.get(name), target_new.flatten());
                    if m.filter(|v| !v.is_empty()) != t.filter(|v| !v.is_empty()) {
                        return Err(disagree(name));
                    }
                    m.cloned().unwrap_or_default()
                }
            };
            if wanted.is_empty() && self.anchor_attributes.contains(name) {
                // An object cannot lose its key: a resource that leaves it out keeps it.
                continue;
            }
            let have = current
                .iter()
                .find(|a| &a.name == name)
                .map_or(&[][..], |a| &a.values[..]);
            changes.extend(change_for(schema, have, wanted));
        }
        Ok(changes)
    }

    /// The attributes a SCIM write may set. Anchor attributes are among them unless the
    /// target generates them (read-only): a natural key such as a login name is written
    /// on add, and a change to it moves the object (the connector reports the new anchor
    /// and the SCIM id stays; see `store::anchors`).
    fn writable(&self) -> impl Iterator<Item = &AttributeSchema> {
        self.attributes.iter().filter(|a| !a.read_only)
    }

    fn stated(&self, resource: &Json) -> Result<Stated, ScimError> {
        let empty = Map::new();
        let root = resource.as_object().unwrap_or(&empty);
        let mut mapped = BTreeMap::new();
        for entry in &self.entries {
            let values = extract(root, entry)?;
            let values = if entry.attribute.multi_valued {
                values
            } else {
                values.into_iter().take(1).collect()
            };
            mapped.insert(entry.attribute.name.clone(), values);
        }
        let target = match get(root, &self.target_urn) {
            Some(Json::Object(ext)) => Some(self.stated_target(ext)?),
            Some(Json::Null) | None => None,
            Some(_) => {
                return Err(ScimError::invalid_syntax(format!(
                    "'{}' must be an object",
                    self.target_urn
                )));
            }
        };
        Ok(Stated { mapped, target })
    }

    fn stated_target(
        &self,
        ext: &Map<String, Json>,
    ) -> Result<BTreeMap<String, Vec<Value>>, ScimError> {
        let mut stated = BTreeMap::new();
        for schema in &self.target_attributes {
            let path = format!("{}:{}", self.target_urn, schema.name);
            let values = match get(ext, &schema.name) {
                None | Some(Json::Null) => vec![],
                Some(Json::Array(items)) => items
                    .iter()
                    .map(|i| to_connector(i, schema.value_type, &path))
                    .collect::<Result<_, _>>()?,
                Some(v) => vec![to_connector(v, schema.value_type, &path)?],
            };
            if !schema.multi_valued && values.len() > 1 {
                return Err(ScimError::invalid_value(format!(
                    "'{path}' takes one value"
                )));
            }
            stated.insert(schema.name.clone(), values);
        }
        Ok(stated)
    }
}

fn disagree(attribute: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "the request gives the target attribute '{attribute}' two different values (a mapped SCIM \
         attribute and the ferry extension); give it once"
    ))
}

/// The values `entry` finds in a resource, converted to the connector attribute's type.
/// For multi-valued SCIM attributes the elements of the entry's `type` are taken, the
/// primary one first.
fn extract(root: &Map<String, Json>, entry: &MapEntry) -> Result<Vec<Value>, ScimError> {
    let holder = match &entry.container {
        Some(urn) => match get(root, urn) {
            Some(Json::Object(ext)) => ext,
            _ => return Ok(vec![]),
        },
        None => root,
    };
    let Some(value) = get(holder, &entry.name) else {
        return Ok(vec![]);
    };
    let convert = |v: &Json| -> Result<Option<Value>, ScimError> {
        if v.is_null() || v.as_str() == Some("") {
            return Ok(None);
        }
        to_connector(v, entry.attribute.value_type, &entry.key).map(Some)
    };
    let leaves: Vec<&Json> = match (&entry.sub, entry.multi, value) {
        (None, _, v) => vec![v],
        (Some(sub), false, Json::Object(o)) => get(o, sub).into_iter().collect(),
        // Entra ID sometimes sends manager as a bare id instead of {"value": id}.
        (Some(_), false, v @ Json::String(_)) => vec![v],
        (Some(sub), true, Json::Array(items)) => {
            let mut chosen: Vec<&Map<String, Json>> = items
                .iter()
                .filter_map(Json::as_object)
                .filter(|o| type_matches(o, entry.type_filter.as_deref()))
                .collect();
            chosen.sort_by_key(|o| !is_primary(o));
            chosen.into_iter().filter_map(|o| get(o, sub)).collect()
        }
        (Some(_), _, Json::Null) => vec![],
        (Some(_), _, _) => {
            return Err(ScimError::invalid_value(format!(
                "'{}' has the wrong shape",
                entry.key
            )));
        }
    };
    let mut values = Vec::new();
    for leaf in leaves {
        if let Some(v) = convert(leaf)? {
            values.push(v);
        }
    }
    Ok(values)
}

fn type_matches(element: &Map<String, Json>, wanted: Option<&str>) -> bool {
    match wanted {
        None => true,
        Some(w) => get(element, "type")
            .and_then(Json::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(w)),
    }
}

fn is_primary(element: &Map<String, Json>) -> bool {
    match get(element, "primary") {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => parse_bool(s) == Some(true),
        _ => false,
    }
}

/// The change that makes an attribute hold `wanted` when it holds `have`.
fn change_for(
    schema: &AttributeSchema,
    have: &[Value],
    wanted: Vec<Value>,
) -> Option<AttributeChange> {
    let name = schema.name.clone();
    // A secret's current values are never known (never cached), so a value-level diff
    // against them would add a new password beside the old one: a secret is replaced.
    if !schema.multi_valued || schema.secret {
        return match wanted.is_empty() {
            true if have.is_empty() => None,
            true => Some(AttributeChange::Clear(name)),
            false if have == &wanted[..] => None,
            false => Some(AttributeChange::Replace(Attribute {
                name,
                values: wanted,
            })),
        };
    }
    if wanted.is_empty() {
        return (!have.is_empty()).then_some(AttributeChange::Clear(name));
    }
    let added: Vec<Value> = wanted
        .iter()
        .filter(|v| !have.contains(v))
        .cloned()
        .collect();
    let removed: Vec<Value> = have
        .iter()
        .filter(|v| !wanted.contains(v))
        .cloned()
        .collect();
    match (added.is_empty(), removed.is_empty()) {
        (true, true) => None,
        (false, true) => Some(AttributeChange::AddValues(Attribute {
            name,
            values: added,
        })),
        (true, false) => Some(AttributeChange::RemoveValues(Attribute {
            name,
            values: removed,
        })),
        // Both at once: one replace keeps the change a single target operation.
        (false, false) => Some(AttributeChange::Replace(Attribute {
            name,
            values: wanted,
        })),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::OffsetDateTime;

    use super::super::render::Meta;
    use super::super::tests::mapping;
    use super::*;
    use crate::runtime::bindings::types::{Object, ValueType};
    use crate::scim::patch::{apply_patch, parse_patch};
    use crate::scim::schema::ENTERPRISE_USER_SCHEMA;

    fn rendered(m: &Mapping, object: &Object) -> Json {
        let t = OffsetDateTime::UNIX_EPOCH;
        m.render(
            object,
            &Meta {
                created: t,
                modified: t,
                endpoint: "https://h/Users",
            },
        )
    }

    fn bob() -> Object {
        let a = |n: &str, v: Value| Attribute {
            name: n.into(),
            values: vec![v],
        };
        Object {
            object_type: "user".into(),
            anchor: "9".into(),
            attributes: vec![
                a("id", Value::Integer(9)),
                a("user_name", Value::String("bob".into())),
                a("active", Value::Integer(1)),
                a("email", Value::String("bob@x.org".into())),
                Attribute {
                    name: "nicknames".into(),
                    values: vec![Value::String("b".into())],
                },
            ],
        }
    }

    #[test]
    fn a_post_body_becomes_attributes() {
        let m = mapping(&[]);
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_SCHEMA],
            "userName": "carol", "active": true, "externalId": "c-1",
            "name": {"givenName": "Carol", "familyName": "Jones"},
            "emails": [{"type": "home", "value": "c@home"}, {"type": "work", "value": "c@work", "primary": true}],
            "password": "P@ssw0rd!",
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "77", "manager": {"value": "9"}},
            "roles": [],
        });
        let attrs = m.attributes_for_add(&body).unwrap();
        let get = |n: &str| attrs.iter().find(|a| a.name == n).map(|a| a.values.clone());
        assert_eq!(get("user_name"), Some(vec![Value::String("carol".into())]));
        assert_eq!(get("active"), Some(vec![Value::Integer(1)]));
        assert_eq!(get("email"), Some(vec![Value::String("c@work".into())]));
        assert_eq!(get("manager_id"), Some(vec![Value::Reference("9".into())]));
        assert_eq!(
            get("password"),
            Some(vec![Value::String("P@ssw0rd!".into())])
        );
        assert_eq!(get("id"), None, "read-only attributes are never written");
    }

    #[test]
    fn a_post_that_states_one_attribute_twice_must_agree() {
        let m = mapping(&[]);
        let body = json!({"userName": "a", m.target_urn.clone(): {"user_name": "b"}});
        assert_eq!(
            m.attributes_for_add(&body).unwrap_err().status.as_u16(),
            400
        );
        let body = json!({"userName": "a", m.target_urn.clone(): {"user_name": "a", "cost_centre_code": "CC"}});
        let attrs = m.attributes_for_add(&body).unwrap();
        assert!(attrs.iter().any(|a| a.name == "cost_centre_code"));
    }

    #[test]
    fn an_entra_patch_becomes_minimal_changes() {
        let m = mapping(&[]);
        let object = bob();
        let before = rendered(&m, &object);
        let mut after = before.clone();
        let ops = parse_patch(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "robert@x.org"},
                {"op": "Add", "path": "name.familyName", "value": "Smith"},
            ]
        }))
        .unwrap();
        apply_patch(&mut after, &ops, &m.schema).unwrap();
        let changes = m.changes(&before, &after, &object.attributes).unwrap();
        for expected in [
            AttributeChange::Replace(Attribute {
                name: "active".into(),
                values: vec![Value::Integer(0)],
            }),
            AttributeChange::Replace(Attribute {
                name: "family_name".into(),
                values: vec![Value::String("Smith".into())],
            }),
            AttributeChange::Replace(Attribute {
                name: "email".into(),
                values: vec![Value::String("robert@x.org".into())],
            }),
        ] {
            assert!(
                changes.contains(&expected),
                "{expected:?} missing from {changes:?}"
            );
        }
        assert_eq!(changes.len(), 3);
    }

    #[test]
    fn multi_valued_target_attributes_change_by_value() {
        let m = mapping(&[]);
        let object = bob();
        let before = rendered(&m, &object);
        let mut after = before.clone();
        after[&m.target_urn]["nicknames"] = json!(["b", "bobby"]);
        let changes = m.changes(&before, &after, &object.attributes).unwrap();
        assert_eq!(
            changes,
            vec![AttributeChange::AddValues(Attribute {
                name: "nicknames".into(),
                values: vec![Value::String("bobby".into())]
            })]
        );
        after[&m.target_urn]["nicknames"] = json!([]);
        let changes = m.changes(&before, &after, &object.attributes).unwrap();
        assert_eq!(changes, vec![AttributeChange::Clear("nicknames".into())]);
    }

    #[test]
    fn a_put_clears_what_it_leaves_out_but_ignores_a_missing_target_extension() {
        let m = mapping(&[]);
        let object = bob();
        let before = rendered(&m, &object);
        let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob", "active": true});
        let changes = m.changes(&before, &put, &object.attributes).unwrap();
        assert_eq!(changes, vec![AttributeChange::Clear("email".into())]);
    }

    #[test]
    fn a_natural_key_anchor_is_written_and_moved_but_never_cleared() {
        // A table keyed by the login name, mapped to userName by the operator.
        let mut table = super::super::tests::users_table();
        table.anchor_attributes = vec!["user_name".into()];
        let config = [("userName".to_string(), "user_name".to_string())].into();
        let m = Mapping::build(
            crate::scim::schema::user_resource(None),
            &table,
            &config,
            true,
        )
        .unwrap();
        let added = m
            .attributes_for_add(&json!({"userName": "ann", "active": true}))
            .unwrap();
        assert!(
            added.iter().any(|a| a.name == "user_name"),
            "the key is written on add: {added:?}"
        );
        let mut object = bob();
        object.anchor = "bob".into();
        let before = rendered(&m, &object);
        let mut renamed = before.clone();
        renamed["userName"] = json!("robert");
        assert_eq!(
            m.changes(&before, &renamed, &object.attributes).unwrap(),
            vec![AttributeChange::Replace(Attribute {
                name: "user_name".into(),
                values: vec![Value::String("robert".into())]
            })]
        );
        let mut without = before.clone();
        without.as_object_mut().unwrap().remove("userName");
        assert!(
            m.changes(&before, &without, &object.attributes)
                .unwrap()
                .iter()
                .all(|c| c.name() != "user_name"),
            "a PUT that leaves the key out does not clear it"
        );
    }

    #[test]
    fn a_multi_valued_secret_is_replaced_not_added_to() {
        let mut schema = super::super::tests::attr("userPassword", ValueType::String);
        schema.multi_valued = true;
        schema.secret = true;
        let wanted = vec![Value::String("New-Pa55!".into())];
        assert_eq!(
            change_for(&schema, &[], wanted.clone()),
            Some(AttributeChange::Replace(Attribute {
                name: "userPassword".into(),
                values: wanted
            }))
        );
    }

    #[test]
    fn unchanged_resources_produce_no_changes() {
        let m = mapping(&[]);
        let object = bob();
        let before = rendered(&m, &object);
        assert!(
            m.changes(&before, &before.clone(), &object.attributes)
                .unwrap()
                .is_empty()
        );
    }
}
