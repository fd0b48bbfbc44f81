//! References written through SCIM (a user's `manager`, a group's members) must point to
//! objects Ferry knows: in its cache, or found in the target by reading through. One
//! that does not is refused with a 503 and `Retry-After` — the IdP usually provisions
//! the referenced user next and retries — instead of being dropped or written as a
//! dangling key the target would refuse as a permanent error.

use super::error::ScimError;
use super::id;
use super::users::RETRY_AFTER_SECONDS;
use crate::app::{App, Bound};
use crate::runtime::bindings::types::{
    Attribute, AttributeChange, AttributeSchema, Value, ValueType,
};

/// Checks that `anchor` is an object of one of `types`; `what` names the reference in
/// the error.
pub async fn require(
    app: &App,
    bound: &Bound,
    types: &[String],
    anchor: &str,
    what: &str,
) -> Result<(), ScimError> {
    for object_type in types {
        let found = app
            .lookup(bound, object_type, anchor)
            .await
            .map_err(|e| ScimError::unavailable(e.to_string(), RETRY_AFTER_SECONDS))?;
        if found.is_some() {
            return Ok(());
        }
    }
    Err(ScimError::unavailable(
        format!(
            "{what} '{}' is not provisioned (yet); retry once it is",
            id::encode(anchor)
        ),
        RETRY_AFTER_SECONDS,
    ))
}

/// Checks every reference value `attributes` write, for attributes of `schema` that say
/// which object types they point to.
pub async fn require_all<'a>(
    app: &App,
    bound: &Bound,
    schema: &[AttributeSchema],
    attributes: impl IntoIterator<Item = &'a Attribute>,
) -> Result<(), ScimError> {
    for attribute in attributes {
        let Some(declared) = schema.iter().find(|a| {
            a.name == attribute.name
                && a.value_type == ValueType::Reference
                && !a.reference_types.is_empty()
        }) else {
            continue;
        };
        for value in &attribute.values {
            if let Value::Reference(anchor) = value {
                let what = format!("'{}' refers to", attribute.name);
                require(app, bound, &declared.reference_types, anchor, &what).await?;
            }
        }
    }
    Ok(())
}

/// The attributes whose values `changes` write (replaced or added; removals need no
/// target).
pub fn written(changes: &[AttributeChange]) -> impl Iterator<Item = &Attribute> {
    changes.iter().filter_map(|change| match change {
        AttributeChange::Replace(a) | AttributeChange::AddValues(a) => Some(a),
        AttributeChange::RemoveValues(_) | AttributeChange::Clear(_) => None,
    })
}
