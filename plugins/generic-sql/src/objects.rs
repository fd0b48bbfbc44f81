//! Objects read from their tables: a row becomes an object with one attribute per
//! non-NULL column, and the values of multi-valued attributes are fetched for a whole
//! batch of owners at once (one query per attribute, not one per object).

use std::collections::BTreeMap;

use crate::anchor::{self, Key};
use crate::errors::from_sql;
use crate::mapping::TypeMapping;
use crate::statements;
use crate::values::{from_sql as value_from_sql, is_marked_deleted};
use ferry_connector::sql::Database;
use ferry_connector::sql::{RowSet, SqlValue};
use ferry_connector::types::{Attribute, Error, Object, ObjectRef};

/// At most this many keys are looked up by one statement, well under every database's
/// limit on parameters per statement even for keys of several columns.
const MAX_LIST: usize = 500;

/// One object as its row holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadObject {
    /// The anchor columns' values as stored: keyset paging and child lookups bind them
    /// back.
    pub key: Key,
    /// The object (with its multi-valued attributes unless it is soft-deleted).
    pub object: Object,
    /// The soft-delete column marks the row deleted.
    pub soft_deleted: bool,
    /// The values the statement selected after the object's own columns.
    pub rest: Vec<SqlValue>,
}

/// The objects of a result whose columns start with `statements`' select list, with their
/// multi-valued attributes.
pub fn read_rows(
    db: &dyn Database,
    mapping: &TypeMapping,
    rows: RowSet,
) -> Result<Vec<ReadObject>, Error> {
    let mut objects = rows
        .rows
        .into_iter()
        .map(|row| decode_row(mapping, row))
        .collect::<Result<Vec<_>, _>>()?;
    attach_multi_valued(db, mapping, &mut objects)?;
    Ok(objects)
}

/// The objects with these keys, soft-deleted ones included, in no particular order.
pub fn read_by_anchor(
    db: &dyn Database,
    mapping: &TypeMapping,
    keys: Vec<Key>,
) -> Result<Vec<ReadObject>, Error> {
    let mut objects = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_LIST) {
        let statement = statements::objects_by_anchor(db.dialect(), mapping, chunk.to_vec());
        let rows = db.query(&statement).map_err(|failure| {
            from_sql(
                &format!("reading objects of type '{}'", mapping.name),
                failure,
            )
        })?;
        objects.extend(read_rows(db, mapping, rows)?);
    }
    Ok(objects)
}

/// The object `target` names as the database holds it now; `None` when there is no such
/// row (or it is soft-deleted, or the anchor could not be a key value at all).
pub fn read(
    db: &dyn Database,
    types: &[TypeMapping],
    target: &ObjectRef,
) -> Result<Option<Object>, Error> {
    let mapping = crate::export::type_named(types, &target.object_type)?;
    let Some(key) = mapping.key_of(&target.anchor) else {
        return Ok(None);
    };
    Ok(read_one(db, mapping, key)?.map(|read| read.object))
}

/// The object with this key if it exists and is not soft-deleted.
pub fn read_one(
    db: &dyn Database,
    mapping: &TypeMapping,
    key: Key,
) -> Result<Option<ReadObject>, Error> {
    Ok(read_by_anchor(db, mapping, vec![key])?
        .into_iter()
        .find(|object| !object.soft_deleted))
}

/// One row as an object; its values converted to the attributes' types.
fn decode_row(mapping: &TypeMapping, row: Vec<SqlValue>) -> Result<ReadObject, Error> {
    let width = mapping.columns.len() + usize::from(mapping.soft_delete.is_some());
    if row.len() < width {
        return Err(Error::internal(format!(
            "reading objects of type '{}': a row has {} columns, {width} were selected",
            mapping.name,
            row.len()
        )));
    }
    let key: Key = mapping
        .anchor
        .iter()
        .map(|&index| row[index].clone())
        .collect();
    let anchor = anchor::encode(&key).map_err(|reason| {
        Error::internal(format!(
            "reading objects of type '{}': an anchor column holds {reason}",
            mapping.name
        ))
    })?;
    let mut values = row.into_iter();
    let mut attributes = Vec::with_capacity(mapping.columns.len());
    for (column, value) in mapping.columns.iter().zip(values.by_ref()) {
        let converted = value_from_sql(value, column.value_type)
            .map_err(|reason| unreadable(mapping, &anchor, &column.name, reason))?;
        attributes.extend(converted.map(|value| Attribute {
            name: column.name.clone(),
            values: vec![value],
        }));
    }
    let soft_deleted = match mapping.soft_delete {
        Some(_) => values.next().is_some_and(|flag| is_marked_deleted(&flag)),
        None => false,
    };
    Ok(ReadObject {
        key,
        object: Object {
            object_type: mapping.name.clone(),
            anchor,
            attributes,
        },
        soft_deleted,
        rest: values.collect(),
    })
}

/// Adds the multi-valued attributes of the objects that are not soft-deleted, one query
/// per attribute for the whole batch; an attribute without values is left out.
fn attach_multi_valued(
    db: &dyn Database,
    mapping: &TypeMapping,
    objects: &mut [ReadObject],
) -> Result<(), Error> {
    let owners: Vec<Key> = objects
        .iter()
        .filter(|object| !object.soft_deleted)
        .map(|object| object.key.clone())
        .collect();
    if owners.is_empty() {
        return Ok(());
    }
    for child in &mapping.multi_valued {
        let mut values_by_owner: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for chunk in owners.chunks(MAX_LIST) {
            let statement = statements::values_of(db.dialect(), child, chunk.to_vec());
            let rows = db.query(&statement).map_err(|failure| {
                from_sql(
                    &format!(
                        "reading '{}' of objects of type '{}'",
                        child.attribute, mapping.name
                    ),
                    failure,
                )
            })?;
            let width = child.key.len() + 1;
            for mut row in rows.rows {
                if row.len() != width {
                    return Err(Error::internal(format!(
                        "reading '{}': a row has {} columns, {width} were selected",
                        child.attribute,
                        row.len()
                    )));
                }
                let value = row.pop().unwrap_or(SqlValue::Null);
                let owner = anchor::encode(&row).map_err(|reason| {
                    Error::internal(format!(
                        "reading '{}': a key column holds {reason}",
                        child.attribute
                    ))
                })?;
                let converted = value_from_sql(value, child.value_type)
                    .map_err(|reason| unreadable(mapping, &owner, &child.attribute, reason))?;
                values_by_owner.entry(owner).or_default().extend(converted);
            }
        }
        for object in objects.iter_mut().filter(|object| !object.soft_deleted) {
            if let Some(values) = values_by_owner.remove(&object.object.anchor) {
                object.object.attributes.push(Attribute {
                    name: child.attribute.clone(),
                    values,
                });
            }
        }
    }
    Ok(())
}

/// A stored value that is not a value of its attribute's type.
fn unreadable(mapping: &TypeMapping, anchor: &str, attribute: &str, reason: String) -> Error {
    Error::internal(format!(
        "object '{anchor}' of type '{}': attribute '{attribute}': {reason}",
        mapping.name
    ))
    .attribute(attribute)
}
