//! Moving an object to a new key, inside the caller's transaction. The key columns are
//! the anchor, so a new key is a new anchor: the object's row, its child rows, and every
//! link table and foreign key column of the configuration that points at it take the new
//! key together, or (the transaction rolled back) nothing changes.

use ferry_connector::sql::{Database, SqlValue, Statement};
use ferry_connector::types::{Error, Value};

use crate::anchor::{self, Key};
use crate::errors::from_sql;
use crate::export::not_found;
use crate::mapping::{Table, TypeMapping};
use crate::statements;
use crate::values::{anchor_param, stored};

/// Moves the object of type `mapping` from key `old` to key `new`: refused with
/// `already-exists` when a row (soft-deleted or not) has the new key. Foreign keys are
/// deferred to the commit where the database allows it (see
/// [`statements::defer_constraints`]); where it does not, a child table's constraint must
/// cascade updates, or the move fails with the database's reason and nothing changes.
pub fn move_key(
    db: &dyn Database,
    types: &[TypeMapping],
    mapping: &TypeMapping,
    old: &Key,
    new: &Key,
) -> Result<(), Error> {
    let old_anchor =
        anchor::encode(old).map_err(|reason| Error::internal(format!("the key is {reason}")))?;
    let context = format!("moving object '{old_anchor}' of type '{}'", mapping.name);
    let new_anchor = anchor::encode(new)
        .map_err(|reason| Error::invalid_input(format!("{context}: the new key is {reason}")))?;
    let dialect = db.dialect();
    let taken = db
        .query(&statements::key_taken(dialect, mapping, new.clone()))
        .map_err(|failure| from_sql(&context, failure))?;
    if !taken.rows.is_empty() {
        return Err(Error::already_exists(format!(
            "{context}: object type '{}' already has an object '{new_anchor}'",
            mapping.name
        )));
    }
    let run = |statement: Statement| {
        db.execute(&statement)
            .map_err(|failure| from_sql(&context, failure))
    };
    run(statements::defer_constraints(dialect))?;
    let moved = run(statements::replace_values(
        dialect,
        &mapping.table,
        &mapping.anchor_quoted(),
        old.clone(),
        new.clone(),
        None,
    ))?;
    if moved == 0 {
        return Err(not_found(mapping, &old_anchor));
    }
    for child in &mapping.multi_valued {
        // Nothing left to move when the child table's foreign key cascaded.
        run(statements::replace_values(
            dialect,
            &child.table,
            &child.key,
            old.clone(),
            new.clone(),
            None,
        ))?;
    }
    // References are single columns and point only at one-column anchors (`config`
    // refuses others): each column holding the old anchor, written in the column's own
    // type, takes the new one; in a link table listing several object types, only the
    // rows whose type column names this one. A column that cannot hold the old anchor
    // holds no reference to it.
    let retarget =
        |table: &Table, column: &String, stored_type, attribute: &str, typed: Option<&str>| {
            let Some(old) = anchor_param(&old_anchor, stored_type) else {
                return Ok(0);
            };
            let new = stored(
                stored_type,
                attribute,
                &Value::Reference(new_anchor.clone()),
            )?;
            let only = typed.map(|type_column| (type_column, SqlValue::Text(mapping.name.clone())));
            run(statements::replace_values(
                dialect,
                table,
                std::slice::from_ref(column),
                vec![old],
                vec![new],
                only,
            ))
        };
    for other in types {
        for column in &other.columns {
            if column.reference.as_ref() == Some(&mapping.name) {
                retarget(
                    &other.table,
                    &column.quoted,
                    column.stored_type,
                    &column.name,
                    None,
                )?;
            }
        }
        for link in &other.multi_valued {
            if link.links_to(&mapping.name) {
                retarget(
                    &link.table,
                    &link.value,
                    link.stored_type,
                    &link.attribute,
                    link.type_column.as_deref(),
                )?;
            }
        }
    }
    Ok(())
}
