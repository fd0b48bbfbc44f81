//! The child rows a multi-valued attribute's values become. A link table whose
//! `reference` lists several object types (a group's members: users or groups) stores
//! each value with the type it names; a reference carries only the anchor, so the
//! connector looks the anchor up in every listed type's table (one statement for many
//! values) and writes the one type that holds it.

use ferry_connector::sql::Database;
use ferry_connector::types::{Error, Value, ValueType};

use crate::errors::from_sql;
use crate::export::type_named;
use crate::mapping::{ChildRow, MultiValuedMapping, TypeMapping};
use crate::statements;
use crate::values::from_sql as value_from_sql;

/// At most this many (type, key) lookups go into one statement: one column each, well
/// under PostgreSQL's 1,664 and SQLite's 2,000 result columns.
const MAX_LOOKUPS: usize = 1000;

/// The rows that store `values` of `child`. For a link listing several object types,
/// each value must be the anchor of a live object of exactly one of them: none is
/// `not-found`, several `invalid-input`, both naming the value.
pub fn child_rows(
    db: &dyn Database,
    types: &[TypeMapping],
    child: &MultiValuedMapping,
    values: &[Value],
) -> Result<Vec<ChildRow>, Error> {
    if child.type_column.is_none() {
        return values
            .iter()
            .map(|value| {
                Ok(ChildRow {
                    value: child.stored(value)?,
                    object_type: None,
                })
            })
            .collect();
    }
    let listed = child
        .reference
        .iter()
        .map(|name| type_named(types, name))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(values.len());
    for chunk in values.chunks((MAX_LOOKUPS / listed.len().max(1)).max(1)) {
        for (value, holders) in chunk.iter().zip(holders(db, child, &listed, chunk)?) {
            let Value::Reference(anchor) = value else {
                return Err(Error::invalid_input(format!(
                    "attribute '{}' takes references",
                    child.attribute
                ))
                .attribute(&child.attribute));
            };
            let object_type = match holders.as_slice() {
                [one] => one.to_string(),
                [] => {
                    return Err(Error::not_found(format!(
                        "'{anchor}' is no object of type {}",
                        child.reference.join(" or ")
                    ))
                    .attribute(&child.attribute));
                }
                several => {
                    return Err(Error::invalid_input(format!(
                        "'{anchor}' is ambiguous: objects of types {} have this anchor",
                        several.join(" and ")
                    ))
                    .attribute(&child.attribute));
                }
            };
            rows.push(ChildRow {
                value: child.stored(value)?,
                object_type: Some(object_type),
            });
        }
    }
    Ok(rows)
}

/// For each value, the names of the listed types with a live object of that anchor, in
/// the order `reference` lists them: one statement for the whole chunk. A type whose
/// anchor column cannot hold the value (text for an integer key) is not asked.
fn holders<'a>(
    db: &dyn Database,
    child: &MultiValuedMapping,
    listed: &[&'a TypeMapping],
    values: &[Value],
) -> Result<Vec<Vec<&'a str>>, Error> {
    let mut found = vec![Vec::new(); values.len()];
    let mut asked = Vec::new();
    let mut candidates = Vec::new();
    for (position, value) in values.iter().enumerate() {
        let Value::Reference(anchor) = value else {
            continue;
        };
        for mapping in listed {
            if let Some(key) = mapping.key_of(anchor) {
                asked.push((position, mapping.name.as_str()));
                candidates.push((*mapping, key));
            }
        }
    }
    if candidates.is_empty() {
        return Ok(found);
    }
    let context = format!("finding the object types of '{}' values", child.attribute);
    let rows = db
        .query(&statements::count_holders(db.dialect(), candidates))
        .map_err(|failure| from_sql(&context, failure))?;
    let counts = rows.rows.into_iter().next().unwrap_or_default();
    if counts.len() != asked.len() {
        return Err(Error::internal(format!(
            "{context}: {} counts came back for {} lookups",
            counts.len(),
            asked.len()
        )));
    }
    for ((position, name), count) in asked.into_iter().zip(counts) {
        if matches!(value_from_sql(count, ValueType::Integer), Ok(Some(Value::Integer(n))) if n > 0)
        {
            found[position].push(name);
        }
    }
    Ok(found)
}
