//! One object's life through the contract: add, read back, replace a value of each kind,
//! add and remove values of a multi-valued attribute, clear, Unicode and large text,
//! rename, delete. Every write is checked twice: in the object the connector returns
//! (when it returns one) and in a full import afterwards, because an import is how the
//! host learns what the target holds. The single-object `read` of contract 0.2.0 is
//! checked on its own, after the add and after the delete.

use crate::runtime::bindings::types::{Attribute, AttributeChange, ErrorKind, Object, Value};

use super::harness::Harness;
use super::plan::Plan;
use super::report::Outcome;
use super::values::{expect_attributes, expect_schema, single, values_of};

/// The sequence number of the object whose life these checks follow.
pub const MAIN: u32 = 0;

/// Adds the main object (its name, the required attributes, a value of every kind, two
/// values of the multi-valued attribute) and checks the object the add returns. Returns
/// the anchor whenever the add succeeded, even if the returned values were wrong, so the
/// other checks can go on and cleanup can remove it.
pub async fn add(h: &Harness, plan: &Plan) -> (Result<String, String>, Option<String>) {
    let written = plan.full(MAIN);
    let object = match h.add(written.clone()).await {
        Ok(object) => object,
        Err(e) => return (Err(format!("the add failed: {e}")), None),
    };
    let verdict = expect_schema(&object, &plan.schema)
        .and_then(|()| expect_attributes(&object, &plan.readable(&written)))
        .map(|()| format!("anchor '{}'", object.anchor))
        .map_err(|e| format!("the object the add returned: {e}"));
    (verdict, Some(object.anchor))
}

/// A full import returns the main object, once, with the values the add wrote.
pub async fn read_back(h: &Harness, plan: &Plan, anchor: &str) -> Result<String, String> {
    let object = present(h, plan, anchor).await?;
    expect_attributes(&object, &plan.readable(&plan.full(MAIN)))?;
    Ok(String::new())
}

/// `read` returns the main object with the values the add wrote, and `none` for an
/// anchor the target does not have; skipped for connectors without `read`.
pub async fn read_one(h: &Harness, plan: &Plan, anchor: &str) -> Outcome {
    let object = match h.read(anchor).await {
        Err(e) if e.kind() == Some(ErrorKind::Unsupported) => {
            return Outcome::Skip(format!("the connector has no single-object read ({e})"));
        }
        Err(e) => return Outcome::Fail(format!("read failed: {e}")),
        Ok(None) => return Outcome::Fail(format!("read found no object '{anchor}'")),
        Ok(Some(object)) => object,
    };
    let checked = expect_schema(&object, &plan.schema)
        .and_then(|()| expect_attributes(&object, &plan.readable(&plan.full(MAIN))));
    if let Err(e) = checked {
        return Outcome::Fail(format!("the object read returned: {e}"));
    }
    let absent = format!("{anchor}-absent");
    match h.read(&absent).await {
        Ok(None) => Outcome::Pass(String::new()),
        Ok(Some(_)) => Outcome::Fail(format!("read of '{absent}' found an object")),
        Err(e) => Outcome::Fail(format!("read of an absent anchor failed: {e}")),
    }
}

/// Replaces the value of `attribute` with another of its kind.
pub async fn replace(
    h: &Harness,
    plan: &Plan,
    anchor: &str,
    attribute: &str,
) -> Result<String, String> {
    let schema = plan
        .kinds
        .iter()
        .find(|a| a.name == attribute)
        .ok_or_else(|| format!("'{attribute}' is not exercised"))?;
    let new = single(attribute, plan.value(schema, MAIN, 1));
    write(
        h,
        plan,
        anchor,
        vec![AttributeChange::Replace(new.clone())],
        &[new],
    )
    .await
}

/// Adds a value to the multi-valued attribute; the two the add wrote stay.
pub async fn add_values(h: &Harness, plan: &Plan, anchor: &str) -> Result<String, String> {
    let multi = plan.multi.as_ref().ok_or("no multi-valued attribute")?;
    let [a, b, c] = [2, 3, 4].map(|variant| plan.value(multi, MAIN, variant));
    let added = single(&multi.name, c.clone());
    let expected = attribute(&multi.name, vec![a, b, c]);
    write(
        h,
        plan,
        anchor,
        vec![AttributeChange::AddValues(added)],
        &[expected],
    )
    .await
}

/// Removes one value of the multi-valued attribute; the others stay.
pub async fn remove_values(h: &Harness, plan: &Plan, anchor: &str) -> Result<String, String> {
    let multi = plan.multi.as_ref().ok_or("no multi-valued attribute")?;
    let [a, b, c] = [2, 3, 4].map(|variant| plan.value(multi, MAIN, variant));
    let removed = single(&multi.name, a);
    let expected = attribute(&multi.name, vec![b, c]);
    write(
        h,
        plan,
        anchor,
        vec![AttributeChange::RemoveValues(removed)],
        &[expected],
    )
    .await
}

/// Clears an optional attribute: it reads back with no value.
pub async fn clear(h: &Harness, plan: &Plan, anchor: &str, name: &str) -> Result<String, String> {
    let expected = attribute(name, Vec::new());
    write(
        h,
        plan,
        anchor,
        vec![AttributeChange::Clear(name.to_owned())],
        &[expected],
    )
    .await
}

/// Writes `text` into `name` and reads it back byte for byte.
pub async fn text(
    h: &Harness,
    plan: &Plan,
    anchor: &str,
    name: &str,
    text: String,
) -> Result<String, String> {
    let new = single(name, Value::String(text));
    write(
        h,
        plan,
        anchor,
        vec![AttributeChange::Replace(new.clone())],
        &[new],
    )
    .await
}

/// Renames the main object by replacing its name attribute: the anchor stays (the
/// contract promises anchors stable for an object's life) and the new name reads back.
/// A connector or configuration that cannot rename says `unsupported`: skipped. Returns
/// the name the object has afterwards.
pub async fn rename(h: &Harness, plan: &Plan, anchor: &str) -> (Outcome, String) {
    let old = plan.name_value(MAIN);
    let new = format!("{old}-renamed");
    let named = single(&plan.name.name, Value::String(new.clone()));
    match h
        .update(anchor, vec![AttributeChange::Replace(named.clone())])
        .await
    {
        Err(e) if e.kind() == Some(ErrorKind::Unsupported) => {
            return (
                Outcome::Skip(format!("the connector does not rename: {e}")),
                old,
            );
        }
        Err(e) => return (Outcome::Fail(format!("the update failed: {e}")), old),
        Ok(_) => {}
    }
    let verdict =
        async {
            let imported = h
                .import_all()
                .await
                .map_err(|e| format!("the full import failed: {e}"))?;
            match imported.objects.iter().find(|o| o.anchor == anchor) {
                Some(object) => expect_schema(object, &plan.schema)
                    .and_then(|()| expect_attributes(object, &[named]))
                    .map(|()| format!("'{old}' → '{new}', anchor '{anchor}' kept")),
                None => Err(
                    match imported.objects.iter().find(|o| {
                        values_of(o, &plan.name.name).contains(&Value::String(new.clone()))
                    }) {
                        Some(moved) => format!(
                            "after the rename the object has anchor '{}' instead of '{anchor}': \
                     anchors must stay the same for an object's life",
                            moved.anchor
                        ),
                        None => format!("object '{anchor}' is missing from a full import"),
                    },
                ),
            }
        }
        .await;
    (verdict.into(), new)
}

/// Deletes the main object; a full import no longer returns it.
pub async fn delete(h: &Harness, anchor: &str) -> Result<String, String> {
    h.delete(anchor)
        .await
        .map_err(|e| format!("the delete failed: {e}"))?;
    match h.find(anchor).await {
        Ok(None) => Ok(String::new()),
        Ok(Some(_)) => Err(format!(
            "object '{anchor}' is still in a full import after its delete"
        )),
        Err(e) => Err(format!("the full import failed: {e}")),
    }
}

/// Updates `anchor` with `changes`, then checks `expected` in the returned object (if
/// any) and in a full import.
async fn write(
    h: &Harness,
    plan: &Plan,
    anchor: &str,
    changes: Vec<AttributeChange>,
    expected: &[Attribute],
) -> Result<String, String> {
    let returned = h
        .update(anchor, changes)
        .await
        .map_err(|e| format!("the update failed: {e}"))?;
    if let Some(object) = returned {
        if object.anchor != anchor {
            return Err(format!(
                "the update returned object '{}', not '{anchor}'",
                object.anchor
            ));
        }
        expect_schema(&object, &plan.schema)
            .and_then(|()| expect_attributes(&object, expected))
            .map_err(|e| format!("the object the update returned: {e}"))?;
    }
    let object = present(h, plan, anchor).await?;
    expect_attributes(&object, expected).map_err(|e| format!("read back: {e}"))?;
    Ok(String::new())
}

/// Object `anchor` from a full import, checked against the schema; an error when it is
/// absent.
async fn present(h: &Harness, plan: &Plan, anchor: &str) -> Result<Object, String> {
    let object = h
        .find(anchor)
        .await
        .map_err(|e| format!("the full import failed: {e}"))?
        .ok_or_else(|| format!("object '{anchor}' is missing from a full import"))?;
    expect_schema(&object, &plan.schema)?;
    Ok(object)
}

fn attribute(name: &str, values: Vec<Value>) -> Attribute {
    Attribute {
        name: name.to_owned(),
        values,
    }
}
