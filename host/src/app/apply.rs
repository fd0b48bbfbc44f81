//! Recording a confirmed export in the cache: the object the connector returned, or the
//! change applied to the cached copy when the connector returned none. Secret values
//! never reach the cache.

use anyhow::Context;

use super::Bound;
use crate::runtime::bindings::types::{Attribute, AttributeChange, Change, Object, Schema};
use crate::store::cache::CachedObject;

/// Records `change`, which the connector confirmed with `returned`; gives back the object
/// as cached (`None` after a delete).
pub async fn record(
    bound: &Bound,
    change: &Change,
    returned: Option<Object>,
) -> anyhow::Result<Option<CachedObject>> {
    let cache = &bound.cache;
    let object = match (change, returned) {
        (Change::Delete(target), _) => {
            cache.delete(vec![target.clone()]).await?;
            return Ok(None);
        }
        (_, Some(object)) => object,
        (Change::Add(_), None) => {
            anyhow::bail!("the connector confirmed the add but did not return the new object")
        }
        (Change::Update(update), None) => {
            let cached = cache
                .get(&update.target.object_type, &update.target.anchor)
                .await?
                .context("the updated object is not in the cache")?;
            let mut object = cached.object;
            // Membership edits go to the cache member by member; the rest to the copy.
            let (memberships, others): (Vec<AttributeChange>, Vec<AttributeChange>) = update
                .changes
                .iter()
                .cloned()
                .partition(|c| cache.is_membership(&object.object_type, c.name()));
            apply_changes(&mut object.attributes, &others);
            let object = without_secrets(&bound.schema, object);
            return Ok(Some(cache.update(object, memberships).await?));
        }
        (Change::Rename(rename), None) => {
            return cache
                .get(&rename.target.object_type, &rename.target.anchor)
                .await;
        }
    };
    Ok(Some(
        cache.store(without_secrets(&bound.schema, object)).await?,
    ))
}

/// `object` without the values of attributes the schema marks secret.
pub fn without_secrets(schema: &Schema, mut object: Object) -> Object {
    if let Some(t) = schema
        .object_types
        .iter()
        .find(|t| t.name == object.object_type)
    {
        object
            .attributes
            .retain(|a| !t.attributes.iter().any(|s| s.secret && s.name == a.name));
    }
    object
}

/// Applies attribute changes to a list of attributes, as the target would.
pub fn apply_changes(attributes: &mut Vec<Attribute>, changes: &[AttributeChange]) {
    for change in changes {
        match change {
            AttributeChange::Replace(a) => {
                attributes.retain(|x| x.name != a.name);
                if !a.values.is_empty() {
                    attributes.push(a.clone());
                }
            }
            AttributeChange::Clear(name) => attributes.retain(|x| &x.name != name),
            AttributeChange::AddValues(a) => match attributes.iter_mut().find(|x| x.name == a.name)
            {
                Some(x) => x.values.extend(
                    a.values
                        .iter()
                        .filter(|v| !x.values.contains(v))
                        .cloned()
                        .collect::<Vec<_>>(),
                ),
                None => attributes.push(a.clone()),
            },
            AttributeChange::RemoveValues(a) => {
                if let Some(x) = attributes.iter_mut().find(|x| x.name == a.name) {
                    x.values.retain(|v| !a.values.contains(v));
                }
                attributes.retain(|x| !x.values.is_empty());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::types::Value;

    fn attr(name: &str, values: &[&str]) -> Attribute {
        Attribute {
            name: name.into(),
            values: values
                .iter()
                .map(|v| Value::String(v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn applies_every_kind_of_change() {
        let mut attrs = vec![
            attr("a", &["1"]),
            attr("m", &["x", "y"]),
            attr("gone", &["z"]),
        ];
        apply_changes(
            &mut attrs,
            &[
                AttributeChange::Replace(attr("a", &["2"])),
                AttributeChange::AddValues(attr("m", &["y", "w"])),
                AttributeChange::RemoveValues(attr("m", &["x"])),
                AttributeChange::Clear("gone".into()),
                AttributeChange::AddValues(attr("new", &["n"])),
            ],
        );
        assert_eq!(
            attrs,
            vec![
                attr("m", &["y", "w"]),
                attr("a", &["2"]),
                attr("new", &["n"])
            ]
        );
        apply_changes(
            &mut attrs,
            &[
                AttributeChange::RemoveValues(attr("new", &["n"])),
                AttributeChange::Replace(attr("a", &[])),
            ],
        );
        assert_eq!(attrs, vec![attr("m", &["y", "w"])]);
    }
}
