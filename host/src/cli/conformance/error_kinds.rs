//! Checks that failures carry the kind the host acts on: SCIM answers 404 for
//! `not-found` and 409 for `already-exists`, and an IdP decides from those whether to
//! create, retry or give up. A connector that calls everything `internal` makes an IdP
//! retry forever or create duplicates.

use crate::runtime::bindings::types::{
    Attribute, AttributeChange, AttributeSchema, ErrorKind, Value,
};

use super::harness::{Failure, Harness, kind_name};
use super::lifecycle::MAIN;
use super::plan::Plan;
use super::values::single;

/// Adding an object with the name an existing object has is refused with
/// `already-exists` (the name attribute is unique in the target). `name` is the
/// existing object's current name.
pub async fn duplicate(h: &Harness, plan: &Plan, name: &str) -> Result<String, String> {
    let mut attributes = plan.full(MAIN);
    attributes[0].values = vec![Value::String(name.to_owned())];
    match h.add(attributes).await {
        Ok(object) => Err(format!(
            "a second object named '{name}' was added (anchor '{}'); the add must be refused \
             with already-exists",
            object.anchor
        )),
        Err(e) => expect(e, ErrorKind::AlreadyExists),
    }
}

/// The attribute [`missing_required`] leaves out: the first required one, else the name
/// when the schema calls it required.
pub fn required_to_omit(plan: &Plan) -> Option<&AttributeSchema> {
    plan.required
        .first()
        .or(Some(&plan.name).filter(|name| name.required))
}

/// An add without the required attribute `omitted` is refused with `invalid-input`: the
/// IdP's data is incomplete, and retrying will not help.
pub async fn missing_required(h: &Harness, plan: &Plan, omitted: &str) -> Result<String, String> {
    let mut attributes = plan.minimal(MISSING_REQUIRED);
    attributes.retain(|a| a.name != omitted);
    match h.add(attributes).await {
        Ok(object) => Err(format!(
            "an object without '{omitted}' was added (anchor '{}'); the add must be refused \
             with invalid-input",
            object.anchor
        )),
        Err(e) => expect(e, ErrorKind::InvalidInput),
    }
}

/// An add with an attribute the schema does not declare is refused with `invalid-input`,
/// naming it, rather than dropped silently.
pub async fn unknown_attribute(h: &Harness, plan: &Plan) -> Result<String, String> {
    let unknown = format!("{}-undeclared", plan.run);
    let mut attributes = plan.minimal(UNKNOWN_ATTRIBUTE);
    attributes.push(Attribute {
        name: unknown.clone(),
        values: vec![Value::String(plan.name_value(UNKNOWN_ATTRIBUTE))],
    });
    match h.add(attributes).await {
        Ok(object) => Err(format!(
            "an object with the undeclared attribute '{unknown}' was added (anchor '{}'); \
             the add must be refused with invalid-input",
            object.anchor
        )),
        Err(e) => expect(e, ErrorKind::InvalidInput),
    }
}

/// The sequence numbers of the objects the refused adds would have created.
const MISSING_REQUIRED: u32 = 30;
const UNKNOWN_ATTRIBUTE: u32 = 31;

/// Updating an object that does not exist (any more) is refused with `not-found`.
pub async fn update_missing(h: &Harness, plan: &Plan, anchor: &str) -> Result<String, String> {
    let change = single(&plan.name.name, Value::String(plan.name_value(MAIN)));
    match h
        .update(anchor, vec![AttributeChange::Replace(change)])
        .await
    {
        Ok(_) => Err(format!(
            "the update of deleted object '{anchor}' succeeded; it must be refused with \
             not-found"
        )),
        Err(e) => expect(e, ErrorKind::NotFound),
    }
}

/// Deleting an object that does not exist (any more) is refused with `not-found`.
pub async fn delete_missing(h: &Harness, anchor: &str) -> Result<String, String> {
    match h.delete(anchor).await {
        Ok(()) => Err(format!(
            "the delete of deleted object '{anchor}' succeeded; it must be refused with \
             not-found"
        )),
        Err(e) => expect(e, ErrorKind::NotFound),
    }
}

/// Passes when `e` is a refusal of kind `wanted`.
fn expect(e: Failure, wanted: ErrorKind) -> Result<String, String> {
    match e.kind() {
        Some(kind) if kind == wanted => Ok(String::new()),
        _ => Err(format!("expected {}, but {e}", kind_name(wanted))),
    }
}
