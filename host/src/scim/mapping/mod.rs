//! The mapping between one SCIM resource type and one connector object type: which SCIM
//! attribute (core, enterprise extension) holds which connector attribute, plus the
//! target extension that shows every connector attribute under its own name.
//!
//! Reads render a cached object as a SCIM resource. Writes go the other way: a POST
//! body becomes the attributes of an add; a PUT or PATCH is applied to the rendered
//! resource and the difference between before and after becomes per-attribute changes,
//! so every path shape a client may use maps to the same few target operations.

mod defaults;
pub mod render;
pub mod values;
mod write;

use std::collections::{BTreeMap, BTreeSet};

use crate::runtime::bindings::types::{AttributeSchema, ObjectTypeSchema};
use crate::scim::filter::{CompareOp, Filter};
use crate::scim::patch::PatchPath;
use crate::scim::path::{AttrPath, is_attr_name};
use crate::scim::schema::{
    AttrDef, AttrType, Mutability, ResourceSchema, SchemaDef, target_schema_urn,
};

pub use write::Changes;

/// The SCIM attributes identity providers filter on to match their objects with the
/// target's, per resource type: Entra ID's matching attributes (`userName`, `externalId`,
/// `emails[type eq "work"].value`; `displayName` for groups) and Okta's (`userName`).
pub const MATCHED_BY_IDPS: &[(&str, &[&str])] = &[
    ("User", &["userName", "externalId", "emails"]),
    ("Group", &["displayName", "externalId"]),
];

/// Where one mapped value sits in a SCIM resource.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    /// The SCIM path as written in the configuration (or the default), for messages.
    pub key: String,
    /// The extension URN holding the attribute; `None` for core attributes.
    pub container: Option<String>,
    /// The attribute's canonical name.
    pub name: String,
    /// The sub-attribute's canonical name, for complex attributes.
    pub sub: Option<String>,
    /// True when the attribute is a multi-valued complex one (emails): values are
    /// elements of a list.
    pub multi: bool,
    /// For multi-valued attributes: only the elements of this `type` (`work`).
    pub type_filter: Option<String>,
    /// The SCIM type of the value.
    pub leaf: AttrType,
    /// The connector attribute.
    pub attribute: AttributeSchema,
    /// The SCIM attribute is write-only (a password): its target attribute is secret.
    pub write_only: bool,
}

/// The mapping of one resource type ("User") to one object type.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The connector's object type.
    pub object_type: String,
    /// The anchor attributes (shown as `id`, never written by SCIM).
    pub anchor_attributes: Vec<String>,
    /// Mapped SCIM attributes.
    pub entries: Vec<MapEntry>,
    /// The SCIM schemas of the resource type, including the target extension.
    pub schema: ResourceSchema,
    /// Every attribute of the object type.
    pub attributes: Vec<AttributeSchema>,
    /// The connector attributes shown in the target extension (those whose names are
    /// valid SCIM attribute names).
    pub target_attributes: Vec<AttributeSchema>,
    /// The target extension's URN.
    pub target_urn: String,
}

impl Mapping {
    /// Builds the mapping of `resource` (the resource type's schema without the target
    /// extension) to `object_type`, from configured `attributes` (SCIM path → connector
    /// attribute) and, when `use_defaults`, the default names.
    pub fn build(
        resource: ResourceSchema,
        object_type: &ObjectTypeSchema,
        attributes: &BTreeMap<String, String>,
        use_defaults: bool,
    ) -> Result<Self, String> {
        let mut entries: Vec<MapEntry> = Vec::new();
        for (key, attribute) in attributes {
            let target = find_attribute(object_type, attribute).ok_or_else(|| {
                format!(
                    "mapping '{key}': the object type '{}' has no attribute '{attribute}' (it has: {})",
                    object_type.name,
                    object_type.attributes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
                )
            })?;
            let entry = locate(&resource, key, target.clone())
                .map_err(|e| format!("mapping '{key}': {e}"))?;
            add_entry(&mut entries, entry)?;
        }
        if use_defaults {
            add_defaults(&resource, object_type, &mut entries);
        }
        let target_urn = target_schema_urn(&resource.resource_type);
        // An attribute that receives a write-only SCIM attribute (a password) is secret,
        // whatever the connector says: it is never shown, cached or logged.
        let mut object_type = object_type.clone();
        for entry in entries.iter_mut().filter(|e| e.write_only) {
            entry.attribute.secret = true;
            if let Some(a) = object_type
                .attributes
                .iter_mut()
                .find(|a| a.name == entry.attribute.name)
            {
                a.secret = true;
            }
        }
        let object_type = &object_type;
        let target_attributes: Vec<AttributeSchema> = object_type
            .attributes
            .iter()
            .filter(|a| is_attr_name(&a.name))
            .fold(Vec::<AttributeSchema>::new(), |mut kept, a| {
                if !kept.iter().any(|k| k.name.eq_ignore_ascii_case(&a.name)) {
                    kept.push(a.clone());
                }
                kept
            });
        let mut schema = resource;
        schema.extensions.push(target_schema(
            &target_urn,
            &object_type.name,
            &target_attributes,
        ));
        Ok(Self {
            object_type: object_type.name.clone(),
            anchor_attributes: object_type.anchor_attributes.clone(),
            attributes: object_type.attributes.clone(),
            entries,
            schema,
            target_attributes,
            target_urn,
        })
    }

    /// The connector attribute a filter path names, when exactly one mapped location
    /// holds it: `userName`, `emails.value`, `urn:…:ferry:2.0:User:mail`. Used to find
    /// candidates through the cache's lookup table.
    pub fn attribute_for(&self, path: &AttrPath) -> Option<&str> {
        let resolved = self.schema.resolve(path)?;
        if resolved.schema.id == self.target_urn {
            return self
                .target_attributes
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(&resolved.attr.name))
                .map(|a| a.name.as_str());
        }
        let sub = resolved.sub.map(|s| s.name.as_str());
        let mut found = self.entries.iter().filter(|e| {
            e.name == resolved.attr.name
                && e.container.as_deref()
                    == (!resolved.is_core).then_some(resolved.schema.id.as_str())
                && (e.sub.as_deref() == sub || (sub.is_none() && e.sub.as_deref() == Some("value")))
        });
        let first = found.next()?;
        found
            .next()
            .is_none()
            .then_some(first.attribute.name.as_str())
    }

    /// The connector attributes the cache keeps lookups for: those mapped from the SCIM
    /// attributes IdPs match on ([`MATCHED_BY_IDPS`]) and those `extra` names (SCIM paths,
    /// for an IdP told to match on something else). A filter on any other attribute is
    /// answered by scanning the cache. Each lookup costs every cached object a B-tree
    /// entry, written by every import: indexing every mapped attribute made a 100,000-user
    /// import write ten entries per user, where an IdP only ever probes two or three.
    pub fn lookups(&self, extra: &[String]) -> Result<BTreeSet<String>, String> {
        let matched = MATCHED_BY_IDPS
            .iter()
            .find(|(resource, _)| *resource == self.schema.resource_type)
            .map_or(&[][..], |(_, names)| *names);
        let mut lookups: BTreeSet<String> = self
            .entries
            .iter()
            .filter(|e| e.container.is_none() && matched.contains(&e.name.as_str()))
            .map(|e| e.attribute.name.clone())
            .collect();
        for path in extra {
            let attribute = AttrPath::parse(path)
                .ok()
                .and_then(|p| self.attribute_for(&p))
                .ok_or_else(|| {
                    format!("lookups: '{path}' is not a SCIM attribute mapped to one connector attribute")
                })?;
            lookups.insert(attribute.to_string());
        }
        lookups.retain(|name| !self.is_secret(name));
        Ok(lookups)
    }

    /// The connector attributes that must never be shown, cached or logged: those the
    /// connector marks secret and those that receive a write-only SCIM attribute.
    pub fn secret_attributes(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .filter(|a| a.secret)
            .map(|a| a.name.as_str())
    }

    fn is_secret(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| a.name == attribute && a.secret)
    }
}

fn find_attribute<'a>(
    object_type: &'a ObjectTypeSchema,
    name: &str,
) -> Option<&'a AttributeSchema> {
    object_type
        .attributes
        .iter()
        .find(|a| a.name == name)
        .or_else(|| {
            object_type
                .attributes
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
        })
}

fn add_entry(entries: &mut Vec<MapEntry>, entry: MapEntry) -> Result<(), String> {
    if let Some(other) = entries
        .iter()
        .find(|e| e.attribute.name == entry.attribute.name)
    {
        return Err(format!(
            "the attribute '{}' is mapped from both '{}' and '{}'; map it once",
            entry.attribute.name, other.key, entry.key
        ));
    }
    if let Some(other) = entries.iter().find(|e| same_location(e, &entry)) {
        return Err(format!(
            "'{}' and '{}' name the same SCIM attribute",
            other.key, entry.key
        ));
    }
    entries.push(entry);
    Ok(())
}

fn same_location(a: &MapEntry, b: &MapEntry) -> bool {
    a.container == b.container
        && a.name == b.name
        && a.sub == b.sub
        && a.type_filter.as_deref().map(str::to_lowercase)
            == b.type_filter.as_deref().map(str::to_lowercase)
}

fn add_defaults(
    resource: &ResourceSchema,
    object_type: &ObjectTypeSchema,
    entries: &mut Vec<MapEntry>,
) {
    for (key, candidates) in defaults::for_resource(&resource.resource_type) {
        let Some(target) = candidates.iter().find_map(|c| {
            object_type.attributes.iter().find(|a| {
                defaults::normalise(&a.name) == *c
                    && !object_type.anchor_attributes.contains(&a.name)
            })
        }) else {
            continue;
        };
        // Defaults never override or duplicate what the configuration says.
        if let Ok(entry) = locate(resource, key, target.clone())
            && !entries
                .iter()
                .any(|e| same_location(e, &entry) || e.attribute.name == target.name)
        {
            entries.push(entry);
        }
    }
}

/// Resolves a mapping key (`name.givenName`, `emails[type eq "work"].value`, an
/// enterprise URN path) against the resource type's schema.
fn locate(
    resource: &ResourceSchema,
    key: &str,
    attribute: AttributeSchema,
) -> Result<MapEntry, String> {
    let path = PatchPath::parse(key).map_err(|e| e.detail)?;
    let resolved = resource
        .resolve(&AttrPath {
            sub: None,
            ..path.attr.clone()
        })
        .ok_or_else(|| {
            format!(
                "{} has no attribute '{}'",
                resource.resource_type, path.attr
            )
        })?;
    let attr: &AttrDef = resolved.attr;
    if attr.mutability == Mutability::ReadOnly || attr.name == "id" {
        return Err(format!(
            "'{}' is read-only in SCIM and cannot be mapped",
            attr.name
        ));
    }
    let type_filter = match &path.filter {
        None => None,
        Some(f) if attr.multi_valued => Some(
            type_equality(f)
                .ok_or("only filters of the form [type eq \"work\"] are supported in a mapping")?,
        ),
        Some(_) => {
            return Err(format!(
                "'{}' is not multi-valued; it takes no filter",
                attr.name
            ));
        }
    };
    let sub_def = match (&path.attr.sub, attr.ty) {
        (Some(sub), AttrType::Complex) => Some(
            attr.sub(sub)
                .ok_or_else(|| format!("'{}' has no sub-attribute '{sub}'", attr.name))?,
        ),
        (Some(_), _) => return Err(format!("'{}' has no sub-attributes", attr.name)),
        (None, AttrType::Complex) => Some(
            attr.sub("value")
                .ok_or_else(|| format!("name a sub-attribute of '{}'", attr.name))?,
        ),
        (None, _) => None,
    };
    Ok(MapEntry {
        key: key.to_string(),
        container: (!resolved.is_core)
            .then(|| resolved.schema.id.clone())
            .filter(|id| !id.is_empty()),
        name: attr.name.clone(),
        sub: sub_def.map(|s| s.name.clone()),
        multi: attr.multi_valued,
        type_filter,
        leaf: sub_def.map_or(attr.ty, |s| s.ty),
        write_only: attr.mutability == Mutability::WriteOnly,
        attribute,
    })
}

/// `type eq "X"` → X.
fn type_equality(filter: &Filter) -> Option<String> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.name.eq_ignore_ascii_case("type") && path.sub.is_none() => {
            value.as_str().map(str::to_string)
        }
        _ => None,
    }
}

fn target_schema(urn: &str, object_type: &str, attributes: &[AttributeSchema]) -> SchemaDef {
    SchemaDef {
        id: urn.to_string(),
        name: "FerryTarget".into(),
        description: format!("The target's own attributes of the '{object_type}' object type"),
        attributes: attributes
            .iter()
            .map(|a| {
                let mut def = AttrDef::new(
                    &a.name,
                    values::scim_type_of(a.value_type),
                    a.description.as_deref().unwrap_or(""),
                );
                def.multi_valued = a.multi_valued;
                def.mutability = if a.secret {
                    Mutability::WriteOnly
                } else if a.read_only {
                    Mutability::ReadOnly
                } else {
                    Mutability::ReadWrite
                };
                def
            })
            .collect(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::runtime::bindings::types::ValueType;
    use crate::scim::schema::user_resource;

    pub(crate) fn attr(name: &str, value_type: ValueType) -> AttributeSchema {
        AttributeSchema {
            name: name.into(),
            value_type,
            multi_valued: false,
            required: false,
            read_only: false,
            secret: false,
            reference_types: vec![],
            description: None,
        }
    }

    pub(crate) fn users_table() -> ObjectTypeSchema {
        let mut id = attr("id", ValueType::Integer);
        id.read_only = true;
        let mut password = attr("password", ValueType::String);
        password.secret = true;
        let mut groups = attr("nicknames", ValueType::String);
        groups.multi_valued = true;
        ObjectTypeSchema {
            name: "user".into(),
            anchor_attributes: vec!["id".into()],
            attributes: vec![
                id,
                attr("user_name", ValueType::String),
                attr("external_id", ValueType::String),
                attr("active", ValueType::Integer),
                attr("given_name", ValueType::String),
                attr("family_name", ValueType::String),
                attr("email", ValueType::String),
                attr("employee_number", ValueType::String),
                attr("department", ValueType::String),
                attr("manager_id", ValueType::Reference),
                attr("cost_centre_code", ValueType::String),
                password,
                groups,
            ],
        }
    }

    pub(crate) fn mapping(extra: &[(&str, &str)]) -> Mapping {
        let config = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Mapping::build(user_resource(None), &users_table(), &config, true).unwrap()
    }

    fn key_of<'m>(m: &'m Mapping, attribute: &str) -> Option<&'m str> {
        m.entries
            .iter()
            .find(|e| e.attribute.name == attribute)
            .map(|e| e.key.as_str())
    }

    #[test]
    fn default_mapping_finds_the_usual_columns() {
        let m = mapping(&[]);
        assert_eq!(key_of(&m, "user_name"), Some("userName"));
        assert_eq!(key_of(&m, "email"), Some("emails[type eq \"work\"].value"));
        assert_eq!(key_of(&m, "given_name"), Some("name.givenName"));
        assert!(key_of(&m, "manager_id").unwrap().ends_with(":manager"));
        assert!(
            key_of(&m, "id").is_none(),
            "the anchor is the id, not a mapped attribute"
        );
        assert!(key_of(&m, "cost_centre_code").is_none());
        let email = m
            .entries
            .iter()
            .find(|e| e.attribute.name == "email")
            .unwrap();
        assert_eq!(
            (
                email.name.as_str(),
                email.sub.as_deref(),
                email.type_filter.as_deref()
            ),
            ("emails", Some("value"), Some("work"))
        );
    }

    #[test]
    fn configuration_overrides_defaults() {
        let m = mapping(&[
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
                "cost_centre_code",
            ),
            ("userName", "email"),
        ]);
        assert_eq!(key_of(&m, "email"), Some("userName"));
        assert!(
            key_of(&m, "user_name").is_none(),
            "userName is taken by the configuration"
        );
        assert!(
            key_of(&m, "cost_centre_code")
                .unwrap()
                .ends_with(":costCenter")
        );
    }

    #[test]
    fn bad_mappings_are_explained() {
        let build = |k: &str, v: &str| {
            let config = [(k.to_string(), v.to_string())].into();
            Mapping::build(user_resource(None), &users_table(), &config, false).unwrap_err()
        };
        assert!(build("userName", "nosuch").contains("no attribute 'nosuch'"));
        assert!(build("nosuch", "email").contains("no attribute 'nosuch'"));
        assert!(build("id", "email").contains("read-only"));
        assert!(build("emails[value co \"x\"].value", "email").contains("type eq"));
        assert!(build("name.nosuch", "email").contains("no sub-attribute"));
    }

    #[test]
    fn filter_paths_find_their_attribute() {
        let m = mapping(&[]);
        let p = |t: &str| AttrPath::parse(t).unwrap();
        assert_eq!(m.attribute_for(&p("userName")), Some("user_name"));
        assert_eq!(m.attribute_for(&p("USERNAME")), Some("user_name"));
        assert_eq!(m.attribute_for(&p("emails.value")), Some("email"));
        assert_eq!(m.attribute_for(&p("emails")), Some("email"));
        assert_eq!(
            m.attribute_for(&p(
                "urn:ietf:params:scim:schemas:extension:ferry:2.0:User:cost_centre_code"
            )),
            Some("cost_centre_code")
        );
        assert_eq!(m.attribute_for(&p("title")), None);
        let lookups = m.lookups(&[]).unwrap();
        assert!(lookups.contains("user_name") && lookups.contains("email"));
        assert!(!lookups.contains("given_name"), "{lookups:?}");
        let more = m.lookups(&["name.givenName".into()]).unwrap();
        assert!(more.contains("given_name"), "{more:?}");
        let err = m.lookups(&["title".into()]).unwrap_err();
        assert!(err.contains("'title'"), "{err}");
        // A secret is never kept in the lookups, even when asked for.
        assert!(
            !m.lookups(&["password".into()])
                .is_ok_and(|l| l.contains("password"))
        );
    }
}
