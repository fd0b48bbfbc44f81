//! Anchors across the connector boundary. Inside Ferry (cache, SCIM ids, memberships)
//! every object is known by its host anchor, which never changes; the connector knows it
//! by its target anchor, which moves when the target's key changes (see
//! [`crate::store::anchors`]). Everything going to the connector is translated to target
//! anchors here, everything coming back to host anchors: the objects' own anchors and the
//! reference values in their attributes. While no anchor ever moved, nothing is touched.

use crate::runtime::bindings::types::{
    Attribute, AttributeChange, Change, Object, ObjectRef, Schema, Value,
};
use crate::store::anchors::Anchors;
use crate::store::cache::Cache;

/// The object types the values of `attribute` of `object_type` may point to (none for
/// an attribute that holds no references).
fn reference_types<'s>(schema: &'s Schema, object_type: &str, attribute: &str) -> &'s [String] {
    schema
        .object_types
        .iter()
        .find(|t| t.name == object_type)
        .and_then(|t| t.attributes.iter().find(|a| a.name == attribute))
        .map_or(&[], |a| a.reference_types.as_slice())
}

/// Rewrites the reference values of `attribute` with `translate(types, anchor)`.
fn map_references(
    schema: &Schema,
    object_type: &str,
    attribute: &mut Attribute,
    translate: &impl Fn(&[String], &str) -> String,
) {
    let types = reference_types(schema, object_type, &attribute.name);
    if types.is_empty() {
        return;
    }
    for value in &mut attribute.values {
        if let Value::Reference(anchor) = value {
            *anchor = translate(types, anchor);
        }
    }
}

/// The target anchor a reference to one of `types` stands for.
fn reference_to_target(anchors: &Anchors, types: &[String], host: &str) -> String {
    types
        .iter()
        .map(|t| anchors.target(t, host))
        .find(|target| target != host)
        .unwrap_or_else(|| host.to_string())
}

/// The host anchor a reference to one of `types` stands for.
fn reference_to_host(anchors: &Anchors, types: &[String], target: &str) -> String {
    types
        .iter()
        .filter_map(|t| anchors.known_host(t, target))
        .find(|host| host != target)
        .unwrap_or_else(|| target.to_string())
}

/// `change` as the connector must see it.
pub fn change_to_target(anchors: &Anchors, schema: &Schema, change: &Change) -> Change {
    let mut change = change.clone();
    if !anchors.any_moved() {
        return change;
    }
    let to_target = |types: &[String], host: &str| reference_to_target(anchors, types, host);
    let retarget = |r: &mut ObjectRef| r.anchor = anchors.target(&r.object_type, &r.anchor);
    match &mut change {
        Change::Add(add) => {
            for attribute in &mut add.attributes {
                map_references(schema, &add.object_type, attribute, &to_target);
            }
        }
        Change::Update(update) => {
            retarget(&mut update.target);
            for edit in &mut update.changes {
                if let AttributeChange::Replace(a)
                | AttributeChange::AddValues(a)
                | AttributeChange::RemoveValues(a) = edit
                {
                    map_references(schema, &update.target.object_type, a, &to_target);
                }
            }
        }
        Change::Delete(target) => retarget(target),
        Change::Rename(rename) => retarget(&mut rename.target),
    }
    change
}

/// An object the connector reported, with its host anchor: `host` when the caller
/// knows which object it is (the one it changed), else the anchor's known or newly
/// adopted host anchor. Records a move when the target anchor is not the one the host
/// had for it.
pub async fn object_to_host(
    cache: &Cache,
    schema: &Schema,
    mut object: Object,
    host: Option<&str>,
) -> anyhow::Result<Object> {
    let anchors = cache.anchors();
    match host {
        Some(host) if anchors.target(&object.object_type, host) != object.anchor => {
            cache
                .moved(&object.object_type, host, &object.anchor)
                .await?;
            object.anchor = host.to_string();
        }
        Some(host) => object.anchor = host.to_string(),
        None if anchors.any_moved() => {
            object.anchor = cache.adopt(&object.object_type, &object.anchor).await?;
        }
        None => {}
    }
    if anchors.any_moved() {
        let to_host = |types: &[String], target: &str| reference_to_host(anchors, types, target);
        for attribute in &mut object.attributes {
            map_references(schema, &object.object_type, attribute, &to_host);
        }
    }
    Ok(object)
}

/// Objects the connector reported (an import page), with their host anchors.
pub async fn objects_to_host(
    cache: &Cache,
    schema: &Schema,
    objects: Vec<Object>,
) -> anyhow::Result<Vec<Object>> {
    if !cache.anchors().any_moved() {
        return Ok(objects);
    }
    let mut translated = Vec::with_capacity(objects.len());
    for object in objects {
        translated.push(object_to_host(cache, schema, object, None).await?);
    }
    Ok(translated)
}

/// A reference the connector reported (a deleted object), with its host anchor; `None`
/// when the host never knew that object (its anchor would have needed a new host anchor,
/// and it was never adopted), so nothing the host holds is meant.
pub fn ref_to_host(anchors: &Anchors, mut target: ObjectRef) -> Option<ObjectRef> {
    target.anchor = anchors.known_host(&target.object_type, &target.anchor)?;
    Some(target)
}
