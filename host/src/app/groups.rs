//! SCIM Groups for an app: which connector object type they are, and which of its
//! attributes lists the members. Members are references to the users' object type;
//! the cache keeps them one row per member, so a group of any size changes one member at
//! a time.

use crate::config::GroupsMappingConfig;
use crate::runtime::bindings::types::{ObjectTypeSchema, Schema, ValueType};
use crate::scim::mapping::Mapping;
use crate::scim::schema::group_resource;
use crate::store::members::Membership;

/// SCIM Groups ↔ the connector's group object type.
#[derive(Debug, Clone)]
pub struct GroupBinding {
    /// Every group attribute but the members, mapped like a User's.
    pub mapping: Mapping,
    /// The connector attribute listing the members.
    pub members: String,
    /// The object type members are (the users').
    pub member_type: String,
    /// Whether groups may be members too (the connector's member attribute may point to
    /// the group type): nested groups.
    pub nested: bool,
}

impl GroupBinding {
    /// The cache's view of the members attribute.
    pub fn membership(&self) -> Membership {
        Membership {
            object_type: self.mapping.object_type.clone(),
            attribute: self.members.clone(),
            member_type: self.member_type.clone(),
            nested: self.nested,
        }
    }

    /// The object types a member may be.
    pub fn member_types(&self) -> Vec<String> {
        let mut types = vec![self.member_type.clone()];
        if self.nested {
            types.push(self.mapping.object_type.clone());
        }
        types
    }
}

/// The group binding for `schema`. Without configuration, an object type named `group`
/// with a multi-valued reference attribute to the users' type becomes SCIM Groups, and
/// a connector without one has none; a configuration that names what the connector
/// does not have is an error.
pub fn bind(
    schema: &Schema,
    config: Option<&GroupsMappingConfig>,
    users_type: &str,
) -> Result<Option<GroupBinding>, String> {
    let wanted = config.map_or("group", |c| c.object_type.as_str());
    let Some(group_type) = schema
        .object_types
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(wanted))
    else {
        return match config {
            None => Ok(None),
            Some(_) => Err(format!("the connector has no object type '{wanted}'")),
        };
    };
    let members = match config.and_then(|c| c.members.as_deref()) {
        Some(name) => {
            let attribute = group_type
                .attributes
                .iter()
                .find(|a| a.name == name)
                .ok_or_else(|| format!("'{}' has no attribute '{name}'", group_type.name))?;
            if !(attribute.multi_valued && attribute.value_type == ValueType::Reference) {
                return Err(format!(
                    "'{name}' of '{}' is not a multi-valued reference attribute",
                    group_type.name
                ));
            }
            attribute.name.clone()
        }
        None => match member_attribute(group_type, users_type) {
            Some(name) => name,
            None if config.is_none() => return Ok(None),
            None => {
                return Err(format!(
                    "'{}' has no multi-valued reference attribute to '{users_type}' for members",
                    group_type.name
                ));
            }
        },
    };
    let nested = group_type
        .attributes
        .iter()
        .find(|a| a.name == members)
        .is_some_and(|a| a.reference_types.iter().any(|t| t == &group_type.name));
    let mut without_members = group_type.clone();
    without_members.attributes.retain(|a| a.name != members);
    let mapping = Mapping::build(
        group_resource(),
        &without_members,
        &config.map(|c| c.attributes.clone()).unwrap_or_default(),
        config.is_none_or(|c| c.default_mapping),
    )?;
    Ok(Some(GroupBinding {
        mapping,
        members,
        member_type: users_type.to_string(),
        nested,
    }))
}

/// The first multi-valued reference attribute that may point to `users_type`.
fn member_attribute(group_type: &ObjectTypeSchema, users_type: &str) -> Option<String> {
    group_type
        .attributes
        .iter()
        .find(|a| {
            a.multi_valued
                && a.value_type == ValueType::Reference
                && (a.reference_types.is_empty()
                    || a.reference_types.iter().any(|t| t == users_type))
        })
        .map(|a| a.name.clone())
}
