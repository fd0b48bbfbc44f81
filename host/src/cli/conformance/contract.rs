//! Checks of what a connector says about itself: `describe` (name, version, parameters
//! with usable defaults), `schema` (object types with anchors and well-formed, typed
//! attributes) and `test-connection`. The host relies on all three before it writes
//! anything.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::config::settings;
use crate::runtime::bindings::types::{ConnectorInfo, Parameter, Schema, ValueType};
use crate::runtime::pool::SessionPool;

use super::harness::Failure;

/// `describe`: a name apps can use, a semantic version, a description, and parameters
/// with unique names, descriptions and defaults the host can read.
pub fn describe(info: &ConnectorInfo) -> Result<String, String> {
    if info.name.is_empty()
        || info
            .name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "the name {:?} is not a usable plugin name (empty, or with spaces)",
            info.name
        ));
    }
    if !is_semver(&info.version) {
        return Err(format!(
            "the version {:?} is not a semantic version (MAJOR.MINOR.PATCH)",
            info.version
        ));
    }
    if info.description.trim().is_empty() {
        return Err("the description is empty".into());
    }
    let mut seen = HashSet::new();
    for p in &info.parameters {
        if p.name.trim().is_empty() {
            return Err("a parameter has an empty name".into());
        }
        if !seen.insert(p.name.as_str()) {
            return Err(format!("parameter '{}' is declared twice", p.name));
        }
        if p.description.trim().is_empty() {
            return Err(format!("parameter '{}' has no description", p.name));
        }
    }
    // The host reads defaults the way it reads an app's settings: let it read them all.
    let defaulted: Vec<Parameter> = info
        .parameters
        .iter()
        .filter(|p| p.default.is_some())
        .map(|p| Parameter {
            required: false,
            ..p.clone()
        })
        .collect();
    settings::build(&defaulted, &BTreeMap::new(), Path::new("."), false).map_err(|e| e.message)?;
    let f = &info.features;
    Ok(format!(
        "{} {}, {} parameter(s); delta-import={} rename={} groups={} passwords={}",
        info.name,
        info.version,
        info.parameters.len(),
        f.delta_import,
        f.rename,
        f.groups,
        f.passwords
    ))
}

/// MAJOR.MINOR.PATCH, optionally followed by `-pre` and `+build`.
fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// `schema`: the schema, and whether it is well formed — at least one object type, unique
/// type names, anchors made of the type's own attributes, unique attribute names, and
/// reference attributes that point at types the schema has.
pub async fn schema(pool: &SessionPool) -> (Result<String, String>, Option<Schema>) {
    let schema = match pool.schema().await {
        Ok(schema) => schema,
        Err(e) => return (Err(format!("schema failed: {}", Failure::from(e))), None),
    };
    let verdict = well_formed(&schema);
    (verdict, Some(schema))
}

fn well_formed(schema: &Schema) -> Result<String, String> {
    if schema.object_types.is_empty() {
        return Err("the schema has no object types".into());
    }
    let mut type_names = HashSet::new();
    for t in &schema.object_types {
        if t.name.is_empty() || !type_names.insert(t.name.as_str()) {
            return Err(format!(
                "object type name {:?} is empty or repeated",
                t.name
            ));
        }
    }
    let mut attributes = 0;
    for t in &schema.object_types {
        let mut names = HashSet::new();
        for a in &t.attributes {
            if a.name.is_empty() || !names.insert(a.name.to_lowercase()) {
                return Err(format!(
                    "object type '{}': attribute name {:?} is empty or repeated",
                    t.name, a.name
                ));
            }
            if a.required && a.read_only {
                return Err(format!(
                    "object type '{}': attribute '{}' is both required and read-only, so no \
                     add can succeed",
                    t.name, a.name
                ));
            }
            let references = a.value_type == ValueType::Reference;
            if references == a.reference_types.is_empty() {
                return Err(format!(
                    "object type '{}': attribute '{}' {}",
                    t.name,
                    a.name,
                    if references {
                        "is a reference without reference-types"
                    } else {
                        "has reference-types but is not a reference"
                    }
                ));
            }
            if let Some(unknown) = a
                .reference_types
                .iter()
                .find(|r| !type_names.contains(r.as_str()))
            {
                return Err(format!(
                    "object type '{}': attribute '{}' refers to type '{unknown}', which the \
                     schema does not have",
                    t.name, a.name
                ));
            }
        }
        if t.anchor_attributes.is_empty() {
            return Err(format!(
                "object type '{}' names no anchor attribute",
                t.name
            ));
        }
        if let Some(missing) = t
            .anchor_attributes
            .iter()
            .find(|anchor| !t.attributes.iter().any(|a| &&a.name == anchor))
        {
            return Err(format!(
                "object type '{}': the anchor attribute '{missing}' is not one of its attributes",
                t.name
            ));
        }
        attributes += t.attributes.len();
    }
    let names: Vec<&str> = schema
        .object_types
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    Ok(format!(
        "{} object type(s) ({}), {attributes} attributes",
        names.len(),
        names.join(", ")
    ))
}

/// `test-connection` succeeds.
pub async fn test_connection(pool: &SessionPool) -> Result<String, String> {
    pool.test_connection()
        .await
        .map(|()| String::new())
        .map_err(|e| Failure::from(e).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::types::{
        AttributeSchema, Features, ObjectTypeSchema, ParameterType,
    };

    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "memory".into(),
            version: "1.2.3-beta.1".into(),
            description: "Keeps users in memory.".into(),
            parameters: vec![Parameter {
                name: "size".into(),
                description: "How many.".into(),
                parameter_type: ParameterType::Integer,
                required: true,
                secret: false,
                default: Some("500".into()),
            }],
            features: Features {
                delta_import: false,
                groups: false,
                passwords: false,
                rename: false,
            },
        }
    }

    #[test]
    fn describe_needs_a_name_a_version_and_usable_defaults() {
        assert!(describe(&info()).is_ok());
        let mut bad = info();
        bad.version = "1.2".into();
        assert!(describe(&bad).unwrap_err().contains("semantic version"));
        let mut bad = info();
        bad.name = "my connector".into();
        assert!(describe(&bad).is_err());
        let mut bad = info();
        bad.parameters[0].default = Some("many".into());
        assert!(describe(&bad).unwrap_err().contains("'size'"));
        let mut bad = info();
        bad.parameters.push(bad.parameters[0].clone());
        assert!(describe(&bad).unwrap_err().contains("twice"));
    }

    #[test]
    fn a_schema_needs_anchors_among_its_attributes() {
        let attribute = AttributeSchema {
            name: "id".into(),
            value_type: ValueType::String,
            multi_valued: false,
            required: false,
            read_only: true,
            secret: false,
            reference_types: vec![],
            description: None,
        };
        let mut schema = Schema {
            object_types: vec![ObjectTypeSchema {
                name: "user".into(),
                anchor_attributes: vec!["id".into()],
                attributes: vec![attribute.clone()],
            }],
        };
        assert!(well_formed(&schema).is_ok());
        schema.object_types[0].anchor_attributes = vec!["key".into()];
        assert!(well_formed(&schema).unwrap_err().contains("'key'"));
        schema.object_types[0].anchor_attributes = vec!["id".into()];
        schema.object_types[0].attributes.push(attribute);
        assert!(well_formed(&schema).unwrap_err().contains("repeated"));
        assert!(
            well_formed(&Schema {
                object_types: vec![]
            })
            .is_err()
        );
    }
}
