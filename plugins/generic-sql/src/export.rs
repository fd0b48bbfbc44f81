//! Exports: each change in its own transaction (or, for an add that is one statement, the
//! database's autocommit), so a failed change leaves nothing half done and does not stop
//! the others. Every write is checked against the mapping first (unknown, excluded and
//! read-only attributes are the IdP's mistake, not the database's), and every change that
//! leaves an object returns it as the database holds it: the generated INSERT and UPDATE
//! return the whole row (`RETURNING`, with what defaults and BEFORE triggers made of it;
//! changes an AFTER trigger makes to the row itself are not in it, and show at the next
//! read or import), other writes and views are read back.

use ferry_connector::Error;
use ferry_connector::changes::apply_change;
use ferry_connector::sql::{Database, RowSet, SqlValue, Statement, in_transaction};
use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Object, ObjectRef, RenameChange, UpdateChange, Value,
    find_attribute,
};

use crate::anchor::{self, Key};
use crate::errors::from_sql;
use crate::key_move::move_key;
use crate::link_types::child_rows;
use crate::mapping::{AttributeRef, ChildRow, MultiValuedMapping, PASSWORD, TypeMapping};
use crate::objects::{read_by_anchor, read_one, read_rows};
use crate::statements;
use crate::values::{self, anchor_param};

/// Creates an object (its password set by the operator's statement, when given); returns
/// it as the database holds it. In its own transaction, unless one statement writes it
/// all: the generated insert, returning the whole row, of a table without a soft-delete
/// column (a row that comes back soft-deleted must leave nothing behind), with no child
/// rows and no password to write. The database's autocommit makes that statement all or
/// nothing, and BEGIN and COMMIT would triple its round trips.
pub fn add(db: &dyn Database, types: &[TypeMapping], change: AddChange) -> Result<Object, Error> {
    let mapping = type_named(types, &change.object_type)?;
    let (passwords, attributes): (Vec<Attribute>, Vec<Attribute>) = change
        .attributes
        .into_iter()
        .partition(|a| is_password(mapping, &a.name));
    let password = passwords
        .into_iter()
        .next()
        .map(|a| password_text(a.values))
        .transpose()?
        .flatten();
    let new = new_object(db, types, mapping, attributes)?;
    let single_statement = password.is_none()
        && mapping.soft_delete.is_none()
        && returns_row(mapping, &mapping.statements.insert)
        && new.children.iter().all(|(_, rows)| rows.is_empty());
    let work = || {
        let object = add_object(db, mapping, new)?;
        if let Some(password) = &password {
            set_password(db, mapping, &object.anchor, password)?;
        }
        Ok(object)
    };
    if single_statement {
        work()
    } else {
        in_transaction(db, work)
    }
}

/// Whether a write returns the whole row it wrote, so that nothing is read back: the
/// generated statement (`operator`, the operator's own statement for it, is not given),
/// where the table can name its columns ([`TypeMapping::returned_as`]). An operator's
/// statement returns at most the key.
fn returns_row<T>(mapping: &TypeMapping, operator: &Option<T>) -> bool {
    operator.is_none() && mapping.returned_as.is_some()
}

/// Whether `name` is the write-only password attribute of `mapping`.
fn is_password(mapping: &TypeMapping, name: &str) -> bool {
    name == PASSWORD && mapping.statements.password.is_some()
}

/// The one text value of a password attribute (`None`: no value given).
fn password_text(values: Vec<Value>) -> Result<Option<String>, Error> {
    match single_value(PASSWORD, values)? {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Error::invalid_input("a password is text").attribute(PASSWORD)),
    }
}

/// Runs the operator's password statement for the object `anchor`.
fn set_password(
    db: &dyn Database,
    mapping: &TypeMapping,
    anchor: &str,
    password: &str,
) -> Result<(), Error> {
    let Some(statement) = &mapping.statements.password else {
        return Err(Error::unsupported("no password statement is configured"));
    };
    let key = mapping
        .key_of(anchor)
        .ok_or_else(|| not_found(mapping, anchor))?;
    let bound = statement.bind(|name| {
        if name == PASSWORD {
            SqlValue::Text(password.to_owned())
        } else {
            mapping.key_part(&key, name)
        }
    });
    // Never the password in a message: only the object and the database's reason.
    db.query(&bound).map_err(|failure| {
        from_sql(
            &format!(
                "setting the password of object '{anchor}' of type '{}'",
                mapping.name
            ),
            failure,
        )
    })?;
    Ok(())
}

/// Changes an object in its own transaction. Returns it as read back (with its new
/// anchor when the change gave it a new key), except when the change only adds or
/// removes values of multi-valued attributes (a group's members): then only those child
/// rows are touched, nothing is read, and the host applies the change to its copy.
pub fn update(
    db: &dyn Database,
    types: &[TypeMapping],
    change: UpdateChange,
) -> Result<Option<Object>, Error> {
    let mapping = type_named(types, &change.target.object_type)?;
    let mut change = change;
    let mut password = None;
    for edit in std::mem::take(&mut change.changes) {
        match edit {
            AttributeChange::Replace(a) if is_password(mapping, &a.name) => {
                password = password_text(a.values)?;
            }
            other if is_password(mapping, other.name()) => {
                return Err(Error::invalid_input(
                    "a password can only be replaced, not added to, removed or cleared",
                )
                .attribute(PASSWORD));
            }
            other => change.changes.push(other),
        }
    }
    let anchor = change.target.anchor.clone();
    in_transaction(db, || {
        let returned = if only_value_edits(mapping, &change) {
            edit_values(db, types, mapping, change).map(|()| None)
        } else {
            update_object(db, types, mapping, change).map(Some)
        }?;
        if let Some(password) = &password {
            let anchor = returned.as_ref().map_or(&anchor, |object| &object.anchor);
            set_password(db, mapping, anchor, password)?;
        }
        Ok(returned)
    })
}

/// Gives an object a new key: `new-name` is the new anchor (a bare value, or the JSON
/// array of a composite anchor's parts). Carried out as an update that replaces the
/// anchor columns, so it moves the object exactly as such an update does.
pub fn rename(
    db: &dyn Database,
    types: &[TypeMapping],
    change: RenameChange,
) -> Result<Option<Object>, Error> {
    let mapping = type_named(types, &change.target.object_type)?;
    let refused = |reason: String| {
        Error::invalid_input(format!(
            "'{}' is not an anchor of object type '{}' (its anchor columns: {}){reason}",
            change.new_name,
            mapping.name,
            mapping
                .anchor_columns()
                .map(|column| column.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    let key = mapping
        .key_of(&change.new_name)
        .ok_or_else(|| refused(String::new()))?;
    let changes = mapping
        .anchor_columns()
        .zip(key)
        .map(|(column, part)| {
            let value = values::from_sql(part, column.value_type)
                .map_err(|reason| refused(format!(": {reason}")))?;
            Ok(AttributeChange::Replace(Attribute::new(
                &column.name,
                value.into_iter().collect(),
            )))
        })
        .collect::<Result<_, Error>>()?;
    update(
        db,
        types,
        UpdateChange {
            target: change.target,
            changes,
        },
    )
}

/// Whether every change adds or removes values of a multi-valued attribute.
fn only_value_edits(mapping: &TypeMapping, change: &UpdateChange) -> bool {
    change.changes.iter().all(|c| {
        matches!(
            c,
            AttributeChange::AddValues(_) | AttributeChange::RemoveValues(_)
        ) && matches!(
            mapping.attribute(c.name()),
            Some(AttributeRef::MultiValued(_))
        )
    })
}

/// Adds and removes child rows, one statement per value, after checking the owner
/// exists; the rest of the object is neither read nor written. Removing a value removes
/// the owner's rows holding it, whatever object type a link row names.
fn edit_values(
    db: &dyn Database,
    types: &[TypeMapping],
    mapping: &TypeMapping,
    update: UpdateChange,
) -> Result<(), Error> {
    let anchor = &update.target.anchor;
    let context = format!("updating object '{anchor}' of type '{}'", mapping.name);
    let key = mapping
        .key_of(anchor)
        .ok_or_else(|| not_found(mapping, anchor))?;
    let dialect = db.dialect();
    let found = db
        .query(&statements::exists(dialect, mapping, key.clone()))
        .map_err(|failure| from_sql(&context, failure))?;
    if found.rows.is_empty() {
        return Err(not_found(mapping, anchor));
    }
    for change in &update.changes {
        let AttributeRef::MultiValued(child) = writable(mapping, change.name(), change.values())?
        else {
            return Err(Error::internal(format!(
                "{context}: '{}' is not multi-valued",
                change.name()
            )));
        };
        let context = format!("{context}: changing '{}'", child.attribute);
        let values = distinct(change.values().to_vec());
        let writes = match change {
            AttributeChange::AddValues(_) => child_rows(db, types, child, &values)?
                .into_iter()
                .map(|row| statements::insert_missing_value(dialect, child, key.clone(), row))
                .collect(),
            _ => values
                .iter()
                .map(|value| {
                    let value = child.stored(value)?;
                    Ok(statements::delete_value(dialect, child, key.clone(), value))
                })
                .collect::<Result<Vec<_>, Error>>()?,
        };
        for statement in writes {
            db.execute(&statement)
                .map_err(|failure| from_sql(&context, failure))?;
        }
    }
    Ok(())
}

/// Deletes an object in its own transaction.
pub fn delete(db: &dyn Database, types: &[TypeMapping], target: &ObjectRef) -> Result<(), Error> {
    let mapping = type_named(types, &target.object_type)?;
    in_transaction(db, || delete_object(db, types, mapping, target))
}

/// A new object's values, checked against the mapping and converted for the database.
struct NewObject<'a> {
    /// The single-valued attributes given: (index in the mapping's columns, stored value).
    singles: Vec<(usize, SqlValue)>,
    /// The child rows of each multi-valued attribute given (none: given without values).
    children: Vec<(&'a MultiValuedMapping, Vec<ChildRow>)>,
}

/// Checks an add's attributes against the mapping (each given once, writable, of its
/// type) and converts them for the database: before anything is written, so that the add
/// knows how many statements it takes.
fn new_object<'a>(
    db: &dyn Database,
    types: &[TypeMapping],
    mapping: &'a TypeMapping,
    attributes: Vec<Attribute>,
) -> Result<NewObject<'a>, Error> {
    let mut singles: Vec<(usize, Value)> = Vec::new();
    let mut children: Vec<(&MultiValuedMapping, Vec<ChildRow>)> = Vec::new();
    for (position, attribute) in attributes.iter().enumerate() {
        if attributes[..position]
            .iter()
            .any(|earlier| earlier.name == attribute.name)
        {
            return Err(Error::invalid_input(format!(
                "attribute '{}' is given twice",
                attribute.name
            ))
            .attribute(&attribute.name));
        }
        match writable(mapping, &attribute.name, &attribute.values)? {
            AttributeRef::Column(index, _) => {
                singles.extend(
                    single_value(&attribute.name, attribute.values.clone())?
                        .map(|value| (index, value)),
                );
            }
            AttributeRef::MultiValued(child) => {
                let values = distinct(attribute.values.clone());
                children.push((child, child_rows(db, types, child, &values)?));
            }
        }
    }
    let singles = singles
        .into_iter()
        .map(|(index, value)| Ok((index, mapping.columns[index].stored(&value)?)))
        .collect::<Result<_, Error>>()?;
    Ok(NewObject { singles, children })
}

/// Creates an object: its row (generated INSERT … RETURNING, or the operator's insert),
/// then its child rows; returns it as the database holds it (see [`written`]).
fn add_object(db: &dyn Database, mapping: &TypeMapping, new: NewObject) -> Result<Object, Error> {
    let context = format!("adding an object of type '{}'", mapping.name);
    let NewObject { singles, children } = new;
    let dialect = db.dialect();
    let given = |name: &str| {
        singles
            .iter()
            .find(|(index, _)| mapping.columns[*index].name == name)
            .map(|(_, value)| value.clone())
    };
    let returned = match &mapping.statements.insert {
        None => {
            let values = singles
                .iter()
                .map(|(index, value)| (mapping.columns[*index].quoted.as_str(), value.clone()))
                .collect();
            statements::insert_row(dialect, mapping, values)
        }
        Some(insert) => insert.bind(|name| given(name).unwrap_or(SqlValue::Null)),
    };
    let rows = db
        .query(&returned)
        .map_err(|failure| from_sql(&context, failure))?;
    let whole_row = returns_row(mapping, &mapping.statements.insert);
    let row = rows.rows.first().map_or(&[][..], Vec::as_slice);
    // Where the row holds the key column at `position` of the anchor: at its place in the
    // select list, or in anchor order when only the key is returned.
    let at = |position: usize| {
        if whole_row {
            mapping.anchor[position]
        } else {
            position
        }
    };
    // Each key column as the statement returned it, else as the change gives it.
    let key = mapping
        .anchor_columns()
        .enumerate()
        .map(|(position, column)| match row.get(at(position)) {
            Some(value) if *value != SqlValue::Null => Ok(value.clone()),
            _ => given(&column.name).ok_or_else(|| {
                Error::internal(format!(
                    "{context}: the insert statement returned no anchor \
                     and the change does not give '{}'",
                    column.name
                ))
            }),
        })
        .collect::<Result<Key, Error>>()?;
    // Bind the key as the anchor columns' types, whatever types the statement returned.
    let anchor = anchor::encode(&key)
        .map_err(|reason| Error::internal(format!("{context}: the new anchor is {reason}")))?;
    let key = mapping.key_of(&anchor).ok_or_else(|| {
        Error::internal(format!(
            "{context}: the new anchor '{anchor}' is not a key of the anchor columns"
        ))
    })?;
    for (child, rows) in children {
        for row in rows {
            let statement = statements::insert_value(dialect, child, key.clone(), row);
            db.execute(&statement).map_err(|failure| {
                from_sql(
                    &format!("{context}: adding a value of '{}'", child.attribute),
                    failure,
                )
            })?;
        }
    }
    written(db, mapping, key, &anchor, whole_row.then_some(rows))
}

/// Changes an object: first its key, when the change gives an anchor column a new value
/// (see [`move_key`]); then the other single-valued attributes in one UPDATE (or the
/// operator's update, bound with the whole new state, new key included); then the child
/// rows that differ. Returns it as the database holds it (see [`written`]).
fn update_object(
    db: &dyn Database,
    types: &[TypeMapping],
    mapping: &TypeMapping,
    update: UpdateChange,
) -> Result<Object, Error> {
    let anchor = update.target.anchor;
    let context = format!("updating object '{anchor}' of type '{}'", mapping.name);
    let old_key = mapping
        .key_of(&anchor)
        .ok_or_else(|| not_found(mapping, &anchor))?;
    let current =
        read_one(db, mapping, old_key.clone())?.ok_or_else(|| not_found(mapping, &anchor))?;
    let before = current.object.attributes;
    let mut after = before.clone();
    let mut touched: Vec<AttributeRef> = Vec::new();
    for change in &update.changes {
        let attribute = writable(mapping, change.name(), change.values())?;
        apply_change(&mut after, change);
        if !touched
            .iter()
            .any(|earlier| earlier.name() == attribute.name())
        {
            touched.push(attribute);
        }
    }

    let dialect = db.dialect();
    let old = |name: &str| values_of(&before, name);
    let new = |name: &str| values_of(&after, name);
    let mut sets = Vec::new();
    let mut key_changed = false;
    for attribute in &touched {
        if let AttributeRef::Column(index, column) = *attribute {
            let value = single_value(&column.name, new(&column.name).to_vec())?;
            if new(&column.name) == old(&column.name) {
                continue;
            }
            if mapping.anchor.contains(&index) {
                key_changed = true;
                continue;
            }
            sets.push((
                column.quoted.as_str(),
                value
                    .as_ref()
                    .map_or(Ok(SqlValue::Null), |v| column.stored(v))?,
            ));
        }
    }
    let key = if key_changed {
        let key = mapping
            .anchor_columns()
            .map(|column| match new(&column.name).first() {
                Some(value) => column.stored(value),
                None => Err(Error::invalid_input(format!(
                    "{context}: the anchor column '{}' cannot be emptied",
                    column.name
                ))
                .attribute(&column.name)),
            })
            .collect::<Result<Key, Error>>()?;
        move_key(db, types, mapping, &old_key, &key)?;
        key
    } else {
        old_key
    };
    let mut returned = None;
    if !sets.is_empty() {
        let statement = match &mapping.statements.update {
            None => statements::update_row(dialect, mapping, sets, key.clone()),
            Some(update) => {
                // The operator's statement takes every column's new value.
                let state = mapping
                    .columns
                    .iter()
                    .map(|column| {
                        let value = new(&column.name).first();
                        Ok((
                            column.name.as_str(),
                            value.map_or(Ok(SqlValue::Null), |v| column.stored(v))?,
                        ))
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                update.bind(|name| {
                    state
                        .iter()
                        .find(|(column, _)| *column == name)
                        .map_or(SqlValue::Null, |(_, value)| value.clone())
                })
            }
        };
        let changed = if returns_row(mapping, &mapping.statements.update) {
            let rows = db
                .query(&statement)
                .map_err(|failure| from_sql(&context, failure))?;
            let changed = !rows.rows.is_empty();
            returned = Some(rows);
            changed
        } else {
            db.execute(&statement)
                .map_err(|failure| from_sql(&context, failure))?
                > 0
        };
        if !changed {
            return Err(not_found(mapping, &anchor));
        }
    }
    for attribute in touched {
        if let AttributeRef::MultiValued(child) = attribute {
            let (old, new) = (old(&child.attribute), new(&child.attribute));
            let context = format!("{context}: changing '{}'", child.attribute);
            let run = |statement: Statement| {
                db.execute(&statement)
                    .map_err(|failure| from_sql(&context, failure))
            };
            if new.is_empty() && !old.is_empty() {
                run(statements::delete_values(dialect, child, key.clone()))?;
                continue;
            }
            for value in old.iter().filter(|value| !new.contains(value)) {
                run(statements::delete_value(
                    dialect,
                    child,
                    key.clone(),
                    child.stored(value)?,
                ))?;
            }
            let added: Vec<Value> = new
                .iter()
                .filter(|value| !old.contains(value))
                .cloned()
                .collect();
            for row in child_rows(db, types, child, &added)? {
                run(statements::insert_value(dialect, child, key.clone(), row))?;
            }
        }
    }
    written(db, mapping, key, &anchor, returned)
}

/// Deletes an object: its child rows, the rows of link tables listing several object
/// types that point at it, then its row (or the operator's delete alone, which may keep
/// them, e.g. to soft-delete). Deleting nothing means there was no such object.
fn delete_object(
    db: &dyn Database,
    types: &[TypeMapping],
    mapping: &TypeMapping,
    target: &ObjectRef,
) -> Result<(), Error> {
    let context = format!(
        "deleting object '{}' of type '{}'",
        target.anchor, mapping.name
    );
    let key = mapping
        .key_of(&target.anchor)
        .ok_or_else(|| not_found(mapping, &target.anchor))?;
    let run = |statement: Statement| {
        db.execute(&statement)
            .map_err(|failure| from_sql(&context, failure))
    };
    let dialect = db.dialect();
    let deleted = match &mapping.statements.delete {
        Some(delete) => run(delete.bind(|name| mapping.key_part(&key, name)))?,
        None => {
            for child in &mapping.multi_valued {
                run(statements::delete_values(dialect, child, key.clone()))?;
            }
            let links = types
                .iter()
                .flat_map(|other| &other.multi_valued)
                .filter(|link| link.links_to(&mapping.name));
            for link in links {
                // A value column that cannot hold the anchor holds no link to it.
                let value = anchor_param(&target.anchor, link.stored_type);
                if let (Some(type_column), Some(value)) = (&link.type_column, value) {
                    run(statements::delete_links(
                        dialect,
                        link,
                        type_column,
                        value,
                        &mapping.name,
                    ))?;
                }
            }
            run(statements::delete_row(dialect, mapping, key))?
        }
    };
    if deleted == 0 {
        return Err(not_found(mapping, &target.anchor));
    }
    Ok(())
}

/// The object as the database now holds it, to return to the host: decoded from the row
/// the write returned (`returned`: the columns of the select list, as the database holds
/// them after its BEFORE triggers; AFTER triggers' changes are not in it), else read back
/// by its key; its multi-valued attributes are read either way. An object the soft-delete
/// column (or the view) hides is an error, whichever way it came.
fn written(
    db: &dyn Database,
    mapping: &TypeMapping,
    key: Key,
    anchor: &str,
    returned: Option<RowSet>,
) -> Result<Object, Error> {
    let objects = match returned {
        Some(rows) => read_rows(db, mapping, rows)?,
        None => read_by_anchor(db, mapping, vec![key])?,
    };
    objects
        .into_iter()
        .find(|read| !read.soft_deleted)
        .map(|read| read.object)
        .ok_or_else(|| {
            Error::internal(format!(
                "object '{anchor}' of type '{}' was written but cannot be read back \
             (does the soft-delete column or the table's view hide it?)",
                mapping.name
            ))
        })
}

/// The object type a change names.
pub(crate) fn type_named<'a>(
    types: &'a [TypeMapping],
    name: &str,
) -> Result<&'a TypeMapping, Error> {
    types
        .iter()
        .find(|mapping| mapping.name == name)
        .ok_or_else(|| Error::invalid_input(format!("there is no object type '{name}'")))
}

/// The attribute a change writes, refused when it does not exist (or is excluded), is
/// read-only, or a value has another type than the schema says.
fn writable<'a>(
    mapping: &'a TypeMapping,
    name: &str,
    values: &[Value],
) -> Result<AttributeRef<'a>, Error> {
    let attribute = mapping.attribute(name).ok_or_else(|| {
        Error::invalid_input(format!(
            "object type '{}' has no attribute '{name}'",
            mapping.name
        ))
        .attribute(name)
    })?;
    if attribute.read_only() {
        return Err(Error::invalid_input(format!(
            "attribute '{name}' of object type '{}' is read-only",
            mapping.name
        ))
        .attribute(name));
    }
    let value_type = attribute.value_type();
    if values.iter().any(|value| value.value_type() != value_type) {
        return Err(Error::invalid_input(format!(
            "attribute '{name}' takes {value_type:?} values"
        ))
        .attribute(name));
    }
    Ok(attribute)
}

/// The values of the attribute called `name`; none when there is no such attribute.
fn values_of<'a>(attributes: &'a [Attribute], name: &str) -> &'a [Value] {
    find_attribute(attributes, name).map_or(&[], |attribute| attribute.values.as_slice())
}

/// The one value (or none) of a single-valued attribute.
fn single_value(name: &str, values: Vec<Value>) -> Result<Option<Value>, Error> {
    if values.len() > 1 {
        return Err(Error::invalid_input(format!(
            "attribute '{name}' is single-valued; {} values were given",
            values.len()
        ))
        .attribute(name));
    }
    Ok(values.into_iter().next())
}

/// The values without repeats, in first-seen order: a child table holds each value once.
fn distinct(values: Vec<Value>) -> Vec<Value> {
    let mut kept: Vec<Value> = Vec::with_capacity(values.len());
    for value in values {
        if !kept.contains(&value) {
            kept.push(value);
        }
    }
    kept
}

/// The object `anchor` names does not exist (or the anchor can name none).
pub(crate) fn not_found(mapping: &TypeMapping, anchor: &str) -> Error {
    Error::not_found(format!(
        "object type '{}' has no object '{anchor}'",
        mapping.name
    ))
}
