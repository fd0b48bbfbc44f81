//! PATCH (RFC 7644 §3.5.2) as Entra ID and Okta send it: parsing a PatchOp body into
//! typed operations, and applying them to a resource's JSON, atomically, with the schema
//! deciding what each path means and what type each value must become.
//!
//! Accepted beyond the letter of the RFC, because Entra ID sends it:
//! * `op` in any case (`"Replace"`), booleans as strings (`"False"`), integers as strings;
//! * a path-less `add`/`replace` whose value maps paths (`name.givenName`, a full URN
//!   attribute path, or an extension URN holding that extension's attributes) to values;
//! * `manager` as a bare id or as a one-element list, `null` or `""` to clear a value;
//! * `emails[type eq "work"].value` when no work email exists yet: one is created.

use serde_json::{Map, Value};

use super::attr_json::{
    as_object, find_key, get, get_mut, is_empty, object_mut, parse_bool, parse_instant, remove,
    store, value_of,
};
use super::error::{ScimError, ScimType};
use super::filter::{Filter, parse_selector};
use super::path::AttrPath;
use super::schema::{AttrDef, AttrType, Mutability, PATCH_OP, Resolved, ResourceSchema};

/// The most operations one PATCH request may carry. Entra ID sends a few per user and
/// splits large membership changes into small requests; the cap bounds the work one
/// request can cause (each operation may scan a group's member list).
pub const MAX_PATCH_OPERATIONS: usize = 1000;

/// What an operation does (RFC 7644 §3.5.2.1–3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    /// Adds values: appends to a multi-valued attribute, sets a single-valued one.
    Add,
    /// Removes the attribute, some of its elements, or a sub-attribute.
    Remove,
    /// Replaces the attribute or the selected elements.
    Replace,
}

impl PatchOpKind {
    fn parse(word: &str) -> Option<Self> {
        [
            ("add", Self::Add),
            ("remove", Self::Remove),
            ("replace", Self::Replace),
        ]
        .into_iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|(_, kind)| kind)
    }
}

/// One parsed operation of a PatchOp request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// What to do.
    pub op: PatchOpKind,
    /// Where; `None` for a path-less add/replace, whose value maps paths to values.
    pub path: Option<PatchPath>,
    /// The value as sent; coerced to the attribute's type when applied.
    pub value: Option<Value>,
}

/// A PATCH target: `name.familyName`, `urn:…:enterprise:2.0:User:manager`,
/// `members[value eq "x"]` or `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute. With a filter, `sub` names the sub-attribute written after the
    /// brackets (`emails[type eq "work"].value` is `emails.value` with the filter).
    pub attr: AttrPath,
    /// Selects elements of a multi-valued attribute; its paths are sub-attribute names.
    pub filter: Option<Filter>,
}

impl PatchPath {
    /// Parses a PATCH path; a malformed one is a 400 `invalidPath`.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        let (attr, filter) = parse_selector(text).map_err(|e| {
            let reason = e.detail.trim_start_matches("invalid filter: ");
            ScimError::invalid_path(format!("invalid path '{text}': {reason}"))
        })?;
        Ok(Self { attr, filter })
    }
}

/// Parses a PatchOp request body (RFC 7644 §3.5.2), checking everything that does not
/// need the resource: the message schema, the operation list, each `op`, `path` and
/// whether a value is there when one is needed.
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let body = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH body must be a JSON object"))?;
    let is_patch_op = get(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|urns| {
            urns.iter()
                .any(|u| u.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP)))
        });
    if !is_patch_op {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must list {PATCH_OP}"
        )));
    }
    let operations = get(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be a list of operations"))?;
    if operations.is_empty() || operations.len() > MAX_PATCH_OPERATIONS {
        return Err(ScimError::invalid_syntax(format!(
            "'Operations' must hold 1 to {MAX_PATCH_OPERATIONS} operations, not {}",
            operations.len()
        )));
    }
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op).map_err(|e| in_operation(i, e)))
        .collect()
}

fn parse_operation(op: &Value) -> Result<PatchOperation, ScimError> {
    let op = op
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("an operation must be a JSON object"))?;
    let kind = get(op, "op")
        .and_then(Value::as_str)
        .and_then(PatchOpKind::parse)
        .ok_or_else(|| ScimError::invalid_syntax("'op' must be add, remove or replace"))?;
    let path = match get(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(PatchPath::parse(text)?),
        Some(_) => return Err(ScimError::invalid_path("'path' must be a string")),
    };
    let value = get(op, "value").cloned();
    match (kind, &path, &value) {
        (PatchOpKind::Remove, None, _) => Err(remove_without_path()),
        (PatchOpKind::Add | PatchOpKind::Replace, _, None) => Err(missing_value()),
        (_, None, Some(v)) if !v.is_object() => Err(pathless_value()),
        _ => Ok(PatchOperation {
            op: kind,
            path,
            value,
        }),
    }
}

/// Applies the operations in order to `resource`, all or nothing: on error the resource
/// is left as it was. Afterwards each extension object that became empty is removed and
/// `schemas` lists exactly the extensions the resource holds attributes of.
pub fn apply_patch(
    resource: &mut Value,
    ops: &[PatchOperation],
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let mut patched = resource.clone();
    let root = patched
        .as_object_mut()
        .ok_or_else(|| ScimError::internal("the stored resource is not a JSON object"))?;
    for (i, op) in ops.iter().enumerate() {
        apply_operation(root, op, schema).map_err(|e| in_operation(i, e))?;
    }
    tidy_extensions(root, schema);
    *resource = patched;
    Ok(())
}

fn in_operation(index: usize, error: ScimError) -> ScimError {
    ScimError {
        detail: format!("Operations[{index}]: {}", error.detail),
        ..error
    }
}

fn remove_without_path() -> ScimError {
    ScimError::bad_request(ScimType::NoTarget, "a remove needs a path")
}

fn missing_value() -> ScimError {
    ScimError::invalid_value("add and replace need a value")
}

fn pathless_value() -> ScimError {
    ScimError::invalid_value(
        "an add or replace without a path needs an object mapping attribute paths to values",
    )
}

fn mutability(detail: String) -> ScimError {
    ScimError::bad_request(ScimType::Mutability, detail)
}

fn apply_operation(
    root: &mut Map<String, Value>,
    op: &PatchOperation,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    match (&op.path, op.op) {
        (Some(path), kind) => apply_at(root, kind, path, op.value.as_ref(), schema),
        (None, PatchOpKind::Remove) => Err(remove_without_path()),
        (None, kind) => apply_pathless(root, kind, op.value.as_ref(), schema),
    }
}

/// A path-less add/replace: each key of the value is a path, applied as its own operation.
/// `schemas` is skipped: it follows the attributes present.
fn apply_pathless(
    root: &mut Map<String, Value>,
    kind: PatchOpKind,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let Some(Value::Object(values)) = value else {
        return Err(pathless_value());
    };
    for (key, value) in values
        .iter()
        .filter(|(key, _)| !key.eq_ignore_ascii_case("schemas"))
    {
        apply_at(root, kind, &PatchPath::parse(key)?, Some(value), schema)?;
    }
    Ok(())
}

/// One change at one path, with Entra ID's way of clearing applied: setting a value to
/// null or "" removes it.
#[derive(Clone, Copy)]
enum Edit<'v> {
    Add(&'v Value),
    Replace(&'v Value),
    /// With a value, for a multi-valued attribute: remove the elements with these values.
    Remove(Option<&'v Value>),
}

impl<'v> Edit<'v> {
    fn new(kind: PatchOpKind, value: Option<&'v Value>) -> Result<Self, ScimError> {
        match (kind, value) {
            (PatchOpKind::Add | PatchOpKind::Replace, None) => Err(missing_value()),
            (_, Some(v)) if v.is_null() || v.as_str() == Some("") => Ok(Edit::Remove(None)),
            (PatchOpKind::Remove, value) => Ok(Edit::Remove(value)),
            (PatchOpKind::Add, Some(v)) => Ok(Edit::Add(v)),
            (PatchOpKind::Replace, Some(v)) => Ok(Edit::Replace(v)),
        }
    }
}

fn apply_at(
    root: &mut Map<String, Value>,
    kind: PatchOpKind,
    path: &PatchPath,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    if path.filter.is_none()
        && let Some(urn) = extension_named(&path.attr, schema)
    {
        return apply_to_extension(root, kind, urn, value, schema);
    }
    let edit = Edit::new(kind, value)?;
    let resolved = writable(&path.attr, schema)?;
    let holder = if resolved.is_core {
        root
    } else {
        object_mut(root, &resolved.schema.id)
    };
    let def = resolved.attr;
    match (&path.filter, resolved.sub) {
        (None, None) => apply_to_attribute(holder, edit, def),
        _ if def.multi_valued => apply_to_elements(holder, edit, path, &resolved, schema),
        (None, Some(sub)) => apply_to_sub(holder, edit, def, sub),
        (Some(_), _) => Err(ScimError::invalid_path(format!(
            "'{}' is single-valued and takes no value filter",
            path.attr.name
        ))),
    }
}

/// The extension whose URN the path spells out whole (`urn:…:enterprise:2.0:User`,
/// which parses as the attribute `User` of `urn:…:enterprise:2.0`).
fn extension_named<'s>(attr: &AttrPath, schema: &'s ResourceSchema) -> Option<&'s str> {
    let urn = attr.schema.as_deref().filter(|_| attr.sub.is_none())?;
    schema
        .extension(&format!("{urn}:{}", attr.name))
        .map(|extension| extension.id.as_str())
}

/// An operation on a whole extension: its value holds the extension's attributes, each
/// applied as its own operation; remove drops them all.
fn apply_to_extension(
    root: &mut Map<String, Value>,
    kind: PatchOpKind,
    urn: &str,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    match Edit::new(kind, value)? {
        Edit::Remove(_) => {
            remove(root, urn);
            Ok(())
        }
        Edit::Add(Value::Object(attributes)) | Edit::Replace(Value::Object(attributes)) => {
            for (key, value) in attributes {
                let mut path = PatchPath::parse(key)?;
                path.attr.schema.get_or_insert_with(|| urn.to_string());
                apply_at(root, kind, &path, Some(value), schema)?;
            }
            Ok(())
        }
        _ => Err(ScimError::invalid_value(format!(
            "the value of '{urn}' must be an object of its attributes"
        ))),
    }
}

/// Resolves a path the client may change: a known attribute that is not read-only.
fn writable<'s>(path: &AttrPath, schema: &'s ResourceSchema) -> Result<Resolved<'s>, ScimError> {
    if path.schema.is_none() && path.name.eq_ignore_ascii_case("schemas") {
        return Err(mutability(
            "'schemas' follows the attributes present and is never patched".into(),
        ));
    }
    let resolved = schema.resolve(path).ok_or_else(|| {
        ScimError::invalid_path(format!(
            "'{path}' is not an attribute of a {}",
            schema.resource_type
        ))
    })?;
    let read_only = [Some(resolved.attr), resolved.sub]
        .into_iter()
        .flatten()
        .any(|def| def.mutability == Mutability::ReadOnly);
    if read_only {
        return Err(mutability(format!("'{path}' is read-only")));
    }
    Ok(resolved)
}

/// An edit of a whole attribute (no filter, no sub-attribute).
fn apply_to_attribute(
    holder: &mut Map<String, Value>,
    edit: Edit<'_>,
    def: &AttrDef,
) -> Result<(), ScimError> {
    match edit {
        Edit::Remove(Some(values)) if def.multi_valued => remove_values(holder, def, values),
        Edit::Remove(_) => {
            remove(holder, &def.name);
        }
        Edit::Add(value) if def.multi_valued => append(holder, def, coerce_list(value, def)?),
        Edit::Replace(value) if def.multi_valued => {
            store(holder, &def.name, Value::Array(coerce_list(value, def)?))
        }
        Edit::Add(value) | Edit::Replace(value) if def.ty == AttrType::Complex => {
            merge(holder, def, coerce(value, def)?)
        }
        Edit::Add(value) | Edit::Replace(value) => store(holder, &def.name, coerce(value, def)?),
    }
    Ok(())
}

/// Sets a single-valued complex attribute. Sub-attributes not given are kept (RFC 7644
/// §3.5.2.3), except when the value names a new `value`: then `$ref` and display names
/// describe the old one, so the whole object is replaced (a new `manager`).
fn merge(holder: &mut Map<String, Value>, def: &AttrDef, value: Value) {
    match value {
        Value::Object(fields) if !fields.contains_key("value") => {
            add_fields(object_mut(holder, &def.name), &fields);
            drop_if_empty(holder, &def.name);
        }
        other => store(holder, &def.name, other),
    }
}

/// An edit of a sub-attribute of a single-valued complex attribute (`name.givenName`).
fn apply_to_sub(
    holder: &mut Map<String, Value>,
    edit: Edit<'_>,
    def: &AttrDef,
    sub: &AttrDef,
) -> Result<(), ScimError> {
    match edit {
        Edit::Remove(_) => {
            if let Some(Value::Object(parent)) = get_mut(holder, &def.name) {
                remove(parent, &sub.name);
            }
        }
        Edit::Add(value) | Edit::Replace(value) => {
            let value = coerce(value, sub)?;
            store(object_mut(holder, &def.name), &sub.name, value);
        }
    }
    drop_if_empty(holder, &def.name);
    Ok(())
}

/// An edit of the elements of a multi-valued attribute that a filter selects (all of them
/// without a filter), or of their sub-attribute. An add or replace that selects nothing
/// creates an element from the filter's equalities (`emails[type eq "work"].value`);
/// elements left empty are dropped.
fn apply_to_elements(
    holder: &mut Map<String, Value>,
    edit: Edit<'_>,
    path: &PatchPath,
    resolved: &Resolved<'_>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let def = resolved.attr;
    let parent = AttrPath {
        sub: None,
        ..path.attr.clone()
    };
    let filter = path.filter.as_ref();
    let mut list = take_list(holder, &def.name);
    let hits: Vec<bool> = list
        .iter()
        .map(|element| filter.is_none_or(|f| f.matches_element(element, &parent, schema)))
        .collect();
    let create = || new_element(filter, def, &parent, schema);
    match (edit, resolved.sub) {
        (Edit::Remove(_), None) => {
            let mut hit = hits.iter();
            list.retain(|_| !hit.next().copied().unwrap_or(false));
        }
        (Edit::Remove(_), Some(sub)) => selected(&mut list, &hits).for_each(|element| {
            remove(element, &sub.name);
        }),
        (Edit::Add(value) | Edit::Replace(value), Some(sub)) => {
            let value = coerce(value, sub)?;
            edit_or_create(&mut list, &hits, create, |element| {
                store(element, &sub.name, value.clone())
            })?;
        }
        (Edit::Add(value), None) => {
            let fields = element_value(value, def)?;
            edit_or_create(&mut list, &hits, create, |element| {
                add_fields(element, &fields)
            })?;
        }
        (Edit::Replace(value), None) => {
            let fields = element_value(value, def)?;
            selected(&mut list, &hits).for_each(Map::clear);
            edit_or_create(&mut list, &hits, create, |element| {
                add_fields(element, &fields)
            })?;
        }
    }
    list.retain(|element| !is_empty(element));
    store(holder, &def.name, Value::Array(list));
    Ok(())
}

/// The selected elements that are objects.
fn selected<'l>(
    list: &'l mut [Value],
    hits: &'l [bool],
) -> impl Iterator<Item = &'l mut Map<String, Value>> {
    list.iter_mut()
        .zip(hits)
        .filter(|(_, hit)| **hit)
        .filter_map(|(element, _)| element.as_object_mut())
}

/// Applies `change` to the selected elements, or to a new element when none is selected.
fn edit_or_create(
    list: &mut Vec<Value>,
    hits: &[bool],
    create: impl FnOnce() -> Result<Value, ScimError>,
    change: impl Fn(&mut Map<String, Value>),
) -> Result<(), ScimError> {
    if hits.contains(&true) {
        selected(list, hits).for_each(change);
    } else {
        let mut element = create()?;
        change(as_object(&mut element));
        list.push(element);
    }
    Ok(())
}

fn add_fields(element: &mut Map<String, Value>, fields: &Map<String, Value>) {
    for (name, value) in fields {
        store(element, name, value.clone());
    }
}

/// A new element built from the `eq` terms of the filter, refused (400 `noTarget`) when it
/// would not match the filter, e.g. for `emails[type eq "work" or type eq "home"]`.
fn new_element(
    filter: Option<&Filter>,
    def: &AttrDef,
    parent: &AttrPath,
    schema: &ResourceSchema,
) -> Result<Value, ScimError> {
    let fields: Map<String, Value> = filter
        .map(Filter::equality_terms)
        .unwrap_or_default()
        .into_iter()
        .map(|(path, value)| (path.name, value.clone()))
        .collect();
    let element = coerce(&Value::Object(fields), def)?;
    if filter.is_some_and(|f| !f.matches_element(&element, parent, schema)) {
        return Err(ScimError::bad_request(
            ScimType::NoTarget,
            format!(
                "no element of '{}' matches the filter, and the filter does not describe a new one",
                def.name
            ),
        ));
    }
    Ok(element)
}

/// The attribute's elements, taken out of the holder (a lone value counts as one).
fn take_list(holder: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match remove(holder, name) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

/// Appends values to a multi-valued attribute, skipping those already there: equal ones,
/// and elements whose `value` is already present, so a member Entra ID adds again (its
/// retries, or `"$ref": null` against a stored `$ref`) is not listed twice.
fn append(holder: &mut Map<String, Value>, def: &AttrDef, values: Vec<Value>) {
    let mut list = take_list(holder, &def.name);
    for value in values {
        let present = list
            .iter()
            .any(|e| *e == value || value_of(e).is_some_and(|v| Some(v) == value_of(&value)));
        if !present {
            list.push(value);
        }
    }
    store(holder, &def.name, Value::Array(list));
}

/// Removes the elements whose `value` equals one given (`"value": [{"value": "id1"}]`).
fn remove_values(holder: &mut Map<String, Value>, def: &AttrDef, values: &Value) {
    let unwanted: Vec<&Value> = items(values).iter().filter_map(value_of).collect();
    let mut list = take_list(holder, &def.name);
    list.retain(|element| value_of(element).is_none_or(|v| !unwanted.contains(&v)));
    store(holder, &def.name, Value::Array(list));
}

fn drop_if_empty(holder: &mut Map<String, Value>, name: &str) {
    if get(holder, name).is_some_and(is_empty) {
        remove(holder, name);
    }
}

/// A list's items, or the value itself as a one-item list.
fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// `value` as the elements of the multi-valued attribute `def`: a single value becomes a
/// one-element list, each element is coerced, empty ones are dropped.
fn coerce_list(value: &Value, def: &AttrDef) -> Result<Vec<Value>, ScimError> {
    let mut list = Vec::new();
    for item in items(value) {
        let item = coerce_one(item, def)?;
        if !is_empty(&item) {
            list.push(item);
        }
    }
    Ok(list)
}

/// `value` as one value of `def`. A one-element list is unwrapped (Entra ID sends
/// `manager` as `[{"value": id}]`); an empty list means no value.
fn coerce(value: &Value, def: &AttrDef) -> Result<Value, ScimError> {
    match value {
        Value::Array(items) => match items.as_slice() {
            [] => Ok(Value::Null),
            [one] => coerce_one(one, def),
            _ => Err(ScimError::invalid_value(format!(
                "'{}' holds one value, not {}",
                def.name,
                items.len()
            ))),
        },
        _ => coerce_one(value, def),
    }
}

/// One element of a multi-valued complex attribute, as an object.
fn element_value(value: &Value, def: &AttrDef) -> Result<Map<String, Value>, ScimError> {
    match coerce(value, def)? {
        Value::Object(fields) => Ok(fields),
        _ => Err(type_error(value, def)),
    }
}

/// Converts a scalar or object to the type `def` declares: Entra ID's `"False"` becomes
/// `false`, `"42"` becomes 42 for an integer, a bare id becomes `{"value": id}` for a
/// complex attribute. Anything else of the wrong type is a 400 `invalidValue`.
fn coerce_one(value: &Value, def: &AttrDef) -> Result<Value, ScimError> {
    use AttrType::*;
    let coerced = match (def.ty, value) {
        (_, Value::Null) => Some(Value::Null),
        (Complex, Value::Object(fields)) => return coerce_fields(fields, def),
        (Complex, Value::String(_) | Value::Number(_) | Value::Bool(_))
            if def.sub("value").is_some() =>
        {
            return coerce_fields(&Map::from_iter([("value".to_string(), value.clone())]), def);
        }
        (String | Reference | Binary, Value::String(_)) => Some(value.clone()),
        (String | Reference | Binary, Value::Number(n)) => Some(Value::String(n.to_string())),
        (Boolean, Value::Bool(_)) => Some(value.clone()),
        (Boolean, Value::String(s)) => parse_bool(s).map(Value::Bool),
        (Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(value.clone()),
        (Integer, Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        (Decimal, Value::Number(_)) => Some(value.clone()),
        (Decimal, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        (DateTime, Value::String(s)) if parse_instant(s).is_some() => Some(value.clone()),
        _ => None,
    };
    coerced.ok_or_else(|| type_error(value, def))
}

/// The sub-attributes of a complex value, each coerced, under their schema names.
/// Read-only ones (`manager.displayName`) are the server's to set and are dropped, as
/// RFC 7644 §3.5.1 does for PUT; empty ones are dropped; unknown ones are refused.
fn coerce_fields(fields: &Map<String, Value>, def: &AttrDef) -> Result<Value, ScimError> {
    let mut coerced = Map::new();
    for (name, value) in fields {
        let sub = def.sub(name).ok_or_else(|| {
            ScimError::invalid_value(format!("'{}' has no sub-attribute '{name}'", def.name))
        })?;
        let value = coerce(value, sub)?;
        if sub.mutability != Mutability::ReadOnly && !is_empty(&value) {
            coerced.insert(sub.name.clone(), value);
        }
    }
    Ok(Value::Object(coerced))
}

fn type_error(value: &Value, def: &AttrDef) -> ScimError {
    let given = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string that does not convert",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    ScimError::invalid_value(format!(
        "'{}' takes a {:?} value, not {given}",
        def.name, def.ty
    ))
}

/// Drops extension objects left empty and makes `schemas` list exactly the extensions
/// the resource holds attributes of.
fn tidy_extensions(root: &mut Map<String, Value>, schema: &ResourceSchema) {
    for extension in &schema.extensions {
        let used = get(root, &extension.id).is_some_and(|v| !is_empty(v));
        if !used {
            remove(root, &extension.id);
        }
        list_in_schemas(root, &schema.core.id, &extension.id, used);
    }
}

/// Adds `urn` to the resource's `schemas` (creating it with the core URN if missing) or
/// removes it.
fn list_in_schemas(root: &mut Map<String, Value>, core: &str, urn: &str, listed: bool) {
    let key = find_key(root, "schemas");
    if key.is_none() && !listed {
        return;
    }
    let slot = root
        .entry(key.unwrap_or_else(|| "schemas".into()))
        .or_insert_with(|| Value::Array(vec![Value::from(core)]));
    let Value::Array(urns) = slot else {
        return;
    };
    let is_urn = |u: &Value| u.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn));
    if !listed {
        urns.retain(|u| !is_urn(u));
    } else if !urns.iter().any(is_urn) {
        urns.push(Value::from(urn));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::tests::Garbage;
    use crate::scim::schema::{
        ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, SchemaDef, USER_SCHEMA, group_schema, user_resource,
    };
    use serde_json::json;

    const TARGET: &str = "urn:ferry:params:scim:schemas:extension:target:2.0:User";

    fn users() -> ResourceSchema {
        user_resource(Some(SchemaDef {
            id: TARGET.into(),
            name: "Target".into(),
            description: String::new(),
            attributes: vec![
                AttrDef::new("level", AttrType::Integer, ""),
                AttrDef::new("ratio", AttrType::Decimal, ""),
                AttrDef::new("hired", AttrType::DateTime, ""),
                AttrDef::new("tags", AttrType::String, "").multi(),
            ],
        }))
    }

    fn groups() -> ResourceSchema {
        ResourceSchema {
            resource_type: "Group".into(),
            endpoint: "/Groups".into(),
            core: group_schema(),
            extensions: vec![],
        }
    }

    fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "u1",
            "externalId": "e1",
            "userName": "bjensen@example.com",
            "active": true,
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "meta": {"resourceType": "User"},
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "701984"}
        })
    }

    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    fn patch_with(
        resource: &Value,
        ops: Value,
        schema: &ResourceSchema,
    ) -> Result<Value, ScimError> {
        let mut patched = resource.clone();
        apply_patch(&mut patched, &parse_patch(&body(ops))?, schema)?;
        Ok(patched)
    }

    fn patch(resource: &Value, ops: Value) -> Value {
        patch_with(resource, ops.clone(), &users()).unwrap_or_else(|e| panic!("{ops}: {e}"))
    }

    fn refused(
        resource: &Value,
        ops: Value,
        schema: &ResourceSchema,
        scim_type: ScimType,
    ) -> String {
        let err = patch_with(resource, ops.clone(), schema).expect_err(&ops.to_string());
        assert_eq!(err.scim_type, Some(scim_type), "{ops}: {err}");
        assert_eq!(err.status.as_u16(), 400);
        err.detail
    }

    #[test]
    fn entra_disables_with_a_title_case_op_and_a_string_boolean() {
        let u = patch(
            &user(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        );
        assert_eq!(u["active"], json!(false));
        let u = patch(
            &u,
            json!([{"op": "replace", "path": "active", "value": "TRUE"}]),
        );
        assert_eq!(u["active"], json!(true));
    }

    #[test]
    fn ops_and_keys_in_any_case() {
        let mut patched = user();
        let ops = parse_patch(&json!({
            "Schemas": [PATCH_OP.to_uppercase()],
            "operations": [
                {"OP": "ADD", "Path": "title", "VALUE": "Boss"},
                {"op": "REMOVE", "path": "NAME.GIVENNAME"},
                {"op": "rePlace", "path": "USERNAME", "value": "b@x"}
            ]
        }))
        .unwrap();
        assert_eq!(
            ops.iter().map(|o| o.op).collect::<Vec<_>>(),
            [PatchOpKind::Add, PatchOpKind::Remove, PatchOpKind::Replace]
        );
        apply_patch(&mut patched, &ops, &users()).unwrap();
        assert_eq!(patched["title"], json!("Boss"));
        assert_eq!(patched["name"], json!({"familyName": "Jensen"}));
        assert_eq!(patched["userName"], json!("b@x"));
        assert!(patched.get("USERNAME").is_none());
    }

    #[test]
    fn pathless_replace_of_active() {
        let u = patch(
            &user(),
            json!([{"op": "replace", "value": {"active": false}}]),
        );
        assert_eq!(u["active"], json!(false));
        assert_eq!(u["userName"], user()["userName"]);
    }

    #[test]
    fn pathless_replace_with_sub_and_urn_paths() {
        let u = patch(
            &user(),
            json!([{"op": "replace", "value": {
                "name.givenName": "Babs",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales",
                "schemas": ["ignored"]
            }}]),
        );
        assert_eq!(
            u["name"],
            json!({"givenName": "Babs", "familyName": "Jensen"})
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA],
            json!({"employeeNumber": "701984", "department": "Sales"})
        );
        assert_eq!(u["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    }

    #[test]
    fn pathless_extension_object_and_complex_merge() {
        let u = patch(
            &user(),
            json!([{"op": "add", "value": {
                ENTERPRISE_USER_SCHEMA: {"employeeNumber": "2", "manager": "m1"},
                "name": {"familyName": "Jensen-Smith"},
                TARGET: {"level": "3"}
            }}]),
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA],
            json!({"employeeNumber": "2", "manager": {"value": "m1"}})
        );
        assert_eq!(
            u["name"],
            json!({"givenName": "Barbara", "familyName": "Jensen-Smith"})
        );
        assert_eq!(u[TARGET], json!({"level": 3}));
        assert_eq!(
            u["schemas"],
            json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, TARGET])
        );
        // the URN as an explicit path works the same, and remove drops the extension
        let u = patch(
            &u,
            json!([{"op": "Add", "path": TARGET, "value": {"ratio": "0.5"}}]),
        );
        assert_eq!(u[TARGET], json!({"level": 3, "ratio": 0.5}));
        let u = patch(&u, json!([{"op": "Remove", "path": TARGET}]));
        assert!(u.get(TARGET).is_none());
        assert_eq!(u["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    }

    #[test]
    fn filtered_email_value_is_replaced_or_created() {
        let path = r#"emails[type eq "work"].value"#;
        let u = patch(
            &user(),
            json!([{"op": "Replace", "path": path, "value": "new@example.com"}]),
        );
        assert_eq!(
            u["emails"],
            json!([{"value": "new@example.com", "type": "work", "primary": true}])
        );
        let home = r#"emails[type eq "home"].value"#;
        let u = patch(
            &u,
            json!([{"op": "Add", "path": home, "value": "b@home.org"}]),
        );
        assert_eq!(
            u["emails"][1],
            json!({"type": "home", "value": "b@home.org"})
        );
        let mut bare = user();
        bare.as_object_mut().unwrap().remove("emails");
        let u = patch(
            &bare,
            json!([{"op": "Add", "path": path, "value": "w@example.com"}]),
        );
        assert_eq!(
            u["emails"],
            json!([{"type": "work", "value": "w@example.com"}])
        );
        let u = patch(
            &bare,
            json!([{"op": "replace", "path": r#"emails[type eq "work" and primary eq "true"].value"#, "value": "p@x"}]),
        );
        assert_eq!(
            u["emails"],
            json!([{"type": "work", "primary": true, "value": "p@x"}])
        );
    }

    #[test]
    fn filtered_elements_are_replaced_merged_and_trimmed() {
        let work = r#"emails[type eq "work"]"#;
        let u = patch(
            &user(),
            json!([{"op": "replace", "path": work, "value": {"value": "r@x", "type": "work"}}]),
        );
        assert_eq!(u["emails"], json!([{"value": "r@x", "type": "work"}]));
        let u = patch(
            &user(),
            json!([{"op": "add", "path": work, "value": {"display": "Work"}}]),
        );
        assert_eq!(u["emails"][0]["display"], json!("Work"));
        assert_eq!(u["emails"][0]["primary"], json!(true));
        let u = patch(
            &user(),
            json!([{"op": "remove", "path": r#"emails[type eq "work"].primary"#}]),
        );
        assert_eq!(
            u["emails"],
            json!([{"value": "bjensen@example.com", "type": "work"}])
        );
        let only_value = json!({"emails": [{"value": "a"}, {"value": "b", "type": "home"}]});
        let u = patch(
            &only_value,
            json!([{"op": "remove", "path": "emails.value"}]),
        );
        assert_eq!(
            u["emails"],
            json!([{"type": "home"}]),
            "elements left empty are dropped"
        );
        let u = patch(&user(), json!([{"op": "remove", "path": work}]));
        assert!(u.get("emails").is_none());
        let u = patch(
            &user(),
            json!([{"op": "remove", "path": r#"emails[type eq "home"]"#}]),
        );
        assert_eq!(u["emails"], user()["emails"]);
    }

    #[test]
    fn multi_valued_add_appends_and_replace_replaces() {
        let extra = json!({"value": "b@home.org", "type": "home"});
        let u = patch(
            &user(),
            json!([{"op": "add", "path": "emails", "value": [extra.clone(), extra.clone()]}]),
        );
        assert_eq!(u["emails"].as_array().unwrap().len(), 2);
        let u = patch(
            &u,
            json!([{"op": "add", "path": "emails", "value": extra.clone()}]),
        );
        assert_eq!(
            u["emails"].as_array().unwrap().len(),
            2,
            "exact duplicates are skipped"
        );
        let u = patch(
            &u,
            json!([{"op": "replace", "path": "emails", "value": [extra.clone()]}]),
        );
        assert_eq!(u["emails"], json!([extra]));
        let u = patch(
            &u,
            json!([{"op": "replace", "path": "emails", "value": []}]),
        );
        assert!(u.get("emails").is_none());
        let u = patch(
            &u,
            json!([{"op": "add", "path": "tags", "value": "a"}, {"op": "add", "path": "tags", "value": ["b", "a"]}]),
        );
        assert_eq!(u[TARGET]["tags"], json!(["a", "b"]));
        let u = patch(
            &u,
            json!([{"op": "remove", "path": "tags", "value": ["a"]}]),
        );
        assert_eq!(u[TARGET]["tags"], json!(["b"]));
    }

    #[test]
    fn enterprise_urn_paths() {
        let number = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
        let u = patch(
            &user(),
            json!([{"op": "Replace", "path": number, "value": 7}]),
        );
        assert_eq!(u[ENTERPRISE_USER_SCHEMA]["employeeNumber"], json!("7"));
        // a user without the extension gains the object and the URN in schemas
        let plain = json!({"schemas": [USER_SCHEMA], "userName": "x"});
        let u = patch(&plain, json!([{"op": "Add", "path": number, "value": "9"}]));
        assert_eq!(u[ENTERPRISE_USER_SCHEMA], json!({"employeeNumber": "9"}));
        assert_eq!(u["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
        // and loses both with its last attribute
        let u = patch(&u, json!([{"op": "Remove", "path": "employeeNumber"}]));
        assert_eq!(u, plain);
        // a resource without schemas gets one
        let u = patch(
            &json!({"userName": "x"}),
            json!([{"op": "Add", "path": "department", "value": "d"}]),
        );
        assert_eq!(u["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    }

    #[test]
    fn manager_as_value_list_bare_id_and_null() {
        let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        let u = patch(
            &user(),
            json!([{"op": "Add", "path": "manager", "value": [{"$ref": "../Users/m1", "value": "m1", "displayName": "Boss"}]}]),
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA]["manager"],
            json!({"$ref": "../Users/m1", "value": "m1"})
        );
        let u = patch(
            &u,
            json!([{"op": "Replace", "path": manager, "value": "m2"}]),
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA]["manager"],
            json!({"value": "m2"}),
            "a new value drops the old $ref"
        );
        let u = patch(
            &u,
            json!([{"op": "Replace", "path": "manager.value", "value": "m3"}]),
        );
        assert_eq!(u[ENTERPRISE_USER_SCHEMA]["manager"], json!({"value": "m3"}));
        let u = patch(
            &u,
            json!([{"op": "Replace", "path": manager, "value": null}]),
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA],
            json!({"employeeNumber": "701984"})
        );
        let u = patch(
            &u,
            json!([{"op": "Add", "path": "manager", "value": {"value": "m4"}}, {"op": "Replace", "path": "manager", "value": ""}]),
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA],
            json!({"employeeNumber": "701984"})
        );
    }

    #[test]
    fn null_and_empty_string_remove() {
        let u = patch(
            &user(),
            json!([{"op": "Replace", "path": "name.givenName", "value": ""}, {"op": "Add", "path": "name.familyName", "value": null}]),
        );
        assert!(u.get("name").is_none());
        let u = patch(
            &user(),
            json!([{"op": "replace", "value": {"externalId": null, "userName": "u"}}]),
        );
        assert!(u.get("externalId").is_none());
    }

    #[test]
    fn group_members_add_and_remove() {
        let g = json!({"schemas": [GROUP_SCHEMA], "id": "g1", "displayName": "Admins"});
        let patch = |g: &Value, ops: Value| patch_with(g, ops, &groups()).unwrap();
        let g = patch(
            &g,
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"value": "u2"}]}]),
        );
        assert_eq!(g["members"], json!([{"value": "u1"}, {"value": "u2"}]));
        let g = patch(
            &g,
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"value": "u3", "display": "ignored"}]}]),
        );
        assert_eq!(
            g["members"],
            json!([{"value": "u1"}, {"value": "u2"}, {"value": "u3"}])
        );
        let again = json!([{"op": "Add", "path": "members", "value": [{"$ref": "../Users/u2", "value": "u2"}]}]);
        assert_eq!(
            patch(&g, again)["members"],
            g["members"],
            "a present value is not added again"
        );
        let g = patch(
            &g,
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"value": "nobody"}]}]),
        );
        assert_eq!(g["members"], json!([{"value": "u2"}, {"value": "u3"}]));
        let g = patch(
            &g,
            json!([{"op": "remove", "path": "members[value eq \"u2\"]"}]),
        );
        assert_eq!(g["members"], json!([{"value": "u3"}]));
        let g = patch(
            &g,
            json!([{"op": "remove", "path": "members[value eq \"u3\"]"}]),
        );
        assert!(g.get("members").is_none());
        assert_eq!(g["displayName"], json!("Admins"));
        let g = patch(
            &g,
            json!([{"op": "replace", "value": {"displayName": "Ops", "members": [{"value": "u9"}]}}]),
        );
        assert_eq!(g["members"], json!([{"value": "u9"}]));
        let g = patch(&g, json!([{"op": "remove", "path": "members"}]));
        assert!(g.get("members").is_none());
    }

    #[test]
    fn values_are_coerced_by_type() {
        let u = patch(
            &user(),
            json!([{"op": "add", "value": {"level": " 42 ", "ratio": 2, "hired": "2024-05-01T09:00:00Z", "emails": "x@y"}}]),
        );
        assert_eq!(
            u[TARGET],
            json!({"level": 42, "ratio": 2, "hired": "2024-05-01T09:00:00Z"})
        );
        assert_eq!(u["emails"][1], json!({"value": "x@y"}));
        let u = patch(
            &u,
            json!([{"op": "add", "path": "emails[value eq \"x@y\"].primary", "value": "False"}]),
        );
        assert_eq!(u["emails"][1], json!({"value": "x@y", "primary": false}));
    }

    #[test]
    fn parse_errors() {
        let syntax = ScimType::InvalidSyntax;
        let op = json!({"op": "add", "path": "title", "value": "x"});
        let u = user();
        for bad in [json!([]), json!("x"), json!(null)] {
            let err = parse_patch(&bad).unwrap_err();
            assert_eq!(err.scim_type, Some(syntax));
        }
        let no_schema = parse_patch(&json!({"Operations": [op.clone()]})).unwrap_err();
        assert_eq!(no_schema.scim_type, Some(syntax));
        let wrong_schema =
            parse_patch(&json!({"schemas": [USER_SCHEMA], "Operations": [op.clone()]}))
                .unwrap_err();
        assert_eq!(wrong_schema.scim_type, Some(syntax));
        let missing = parse_patch(&json!({"schemas": [PATCH_OP]})).unwrap_err();
        assert_eq!(missing.scim_type, Some(syntax));
        refused(&u, json!([]), &users(), syntax);
        refused(&u, json!({"op": "add"}), &users(), syntax);
        refused(
            &u,
            json!(vec![op.clone(); MAX_PATCH_OPERATIONS + 1]),
            &users(),
            syntax,
        );
        patch(&u, json!(vec![op; MAX_PATCH_OPERATIONS]));
        refused(&u, json!(["add"]), &users(), syntax);
        refused(
            &u,
            json!([{"op": "move", "path": "title", "value": "x"}]),
            &users(),
            syntax,
        );
        refused(
            &u,
            json!([{"op": 1, "path": "title", "value": "x"}]),
            &users(),
            syntax,
        );
        refused(
            &u,
            json!([{"path": "title", "value": "x"}]),
            &users(),
            syntax,
        );
        let detail = refused(
            &u,
            json!([{"op": "add", "path": 5, "value": "x"}]),
            &users(),
            ScimType::InvalidPath,
        );
        assert!(detail.starts_with("Operations[0]"), "{detail}");
        for path in [
            "",
            "emails[type eq]",
            "emails[type eq \"w\"",
            "a b",
            "ü",
            "name.givenName[x pr]",
            "a.b.c",
        ] {
            let detail = refused(
                &u,
                json!([{"op": "add", "path": path, "value": "x"}]),
                &users(),
                ScimType::InvalidPath,
            );
            assert!(detail.contains("invalid path"), "{detail}");
        }
        refused(
            &u,
            json!([{"op": "add", "path": "title"}]),
            &users(),
            ScimType::InvalidValue,
        );
        refused(
            &u,
            json!([{"op": "Replace"}]),
            &users(),
            ScimType::InvalidValue,
        );
        refused(
            &u,
            json!([{"op": "replace", "value": "x"}]),
            &users(),
            ScimType::InvalidValue,
        );
        refused(&u, json!([{"op": "remove"}]), &users(), ScimType::NoTarget);
        refused(
            &u,
            json!([{"op": "remove", "value": {"title": "x"}}]),
            &users(),
            ScimType::NoTarget,
        );
    }

    #[test]
    fn apply_errors() {
        let u = user();
        let invalid_path = |ops| refused(&u, ops, &users(), ScimType::InvalidPath);
        invalid_path(json!([{"op": "add", "path": "nosuch", "value": "x"}]));
        invalid_path(json!([{"op": "add", "path": "name.nosuch", "value": "x"}]));
        invalid_path(json!([{"op": "add", "path": "urn:example:other:title", "value": "x"}]));
        invalid_path(json!([{"op": "add", "value": {"nosuch": "x"}}]));
        invalid_path(json!([{"op": "add", "value": {"bad key": "x"}}]));
        invalid_path(json!([{"op": "add", "value": {ENTERPRISE_USER_SCHEMA: {"userName": "x"}}}]));
        invalid_path(json!([{"op": "replace", "path": "name[givenName eq \"x\"]", "value": {}}]));
        let read_only = |ops| refused(&u, ops, &users(), ScimType::Mutability);
        for path in [
            "id",
            "meta",
            "meta.resourceType",
            "groups",
            "schemas",
            "manager.displayName",
        ] {
            read_only(json!([{"op": "replace", "path": path, "value": "x"}]));
            read_only(json!([{"op": "remove", "path": path}]));
        }
        read_only(json!([{"op": "replace", "value": {"id": "other"}}]));
        let invalid_value = |ops| refused(&u, ops, &users(), ScimType::InvalidValue);
        invalid_value(json!([{"op": "replace", "path": "userName", "value": {"x": 1}}]));
        invalid_value(json!([{"op": "replace", "path": "userName", "value": true}]));
        invalid_value(json!([{"op": "replace", "path": "userName", "value": ["a", "b"]}]));
        invalid_value(json!([{"op": "replace", "path": "active", "value": "maybe"}]));
        invalid_value(json!([{"op": "replace", "path": "active", "value": 1}]));
        invalid_value(json!([{"op": "replace", "path": "level", "value": "x"}]));
        invalid_value(json!([{"op": "replace", "path": "level", "value": 1.5}]));
        invalid_value(json!([{"op": "replace", "path": "ratio", "value": "NaN"}]));
        invalid_value(json!([{"op": "replace", "path": "hired", "value": "yesterday"}]));
        invalid_value(
            json!([{"op": "add", "path": "emails", "value": [{"value": "x", "nosuch": 1}]}]),
        );
        invalid_value(json!([{"op": "add", "path": "emails", "value": [["nested"]]}]));
        invalid_value(json!([{"op": "add", "path": "name", "value": [1, 2]}]));
        invalid_value(json!([{"op": "add", "path": "name", "value": "x"}]));
        invalid_value(json!([{"op": "add", "path": ENTERPRISE_USER_SCHEMA, "value": "x"}]));
        invalid_value(json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": []}]));
        let no_target = r#"emails[type eq "a" or type eq "b"].value"#;
        refused(
            &u,
            json!([{"op": "add", "path": no_target, "value": "x"}]),
            &users(),
            ScimType::NoTarget,
        );
    }

    #[test]
    fn a_failing_operation_leaves_the_resource_unchanged() {
        let mut u = user();
        let ops = parse_patch(&body(json!([
            {"op": "replace", "path": "active", "value": false},
            {"op": "add", "path": "department", "value": "d"},
            {"op": "remove", "path": "emails"},
            {"op": "replace", "path": "id", "value": "x"}
        ])))
        .unwrap();
        let err = apply_patch(&mut u, &ops, &users()).unwrap_err();
        assert!(err.detail.starts_with("Operations[3]"), "{}", err.detail);
        assert_eq!(u, user());
        let mut not_an_object = json!([1]);
        assert!(apply_patch(&mut not_an_object, &ops[..1], &users()).is_err());
        assert_eq!(not_an_object, json!([1]));
    }

    #[test]
    fn garbage_never_panics_and_errors_change_nothing() {
        const OPS: &[&str] = &["add", "Replace", "REMOVE", "move", ""];
        const PATHS: &[&str] = &[
            "emails",
            "emails[type eq \"work\"].value",
            "members[value eq \"a\"]",
            "name",
            "name.givenName",
            "manager",
            "active",
            "tags",
            "level",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "id",
            "schemas",
        ];
        let values = [
            json!(null),
            json!(""),
            json!("False"),
            json!("x"),
            json!(1),
            json!(true),
            json!([]),
            json!([{"value": "a"}]),
            json!({"value": "a", "type": "work"}),
            json!({"givenName": 1}),
            json!({"active": "True", "name.familyName": "f"}),
            json!([[1]]),
            json!({"emails": [{}]}),
            json!({ENTERPRISE_USER_SCHEMA: {"manager": "m"}}),
            json!([null, "", {"primary": "yes"}]),
        ];
        let (users, groups) = (users(), groups());
        let mut garbage = Garbage::new(0xfe77);
        let mut applied = 0;
        for round in 0..6000 {
            let ops: Vec<Value> = (0..=garbage.below(3))
                .map(|_| {
                    let path = garbage.pick(PATHS);
                    let path = match garbage.below(4) {
                        0 => Value::from(garbage.mutate(path)),
                        1 => Value::Null,
                        _ => Value::from(path),
                    };
                    json!({"op": OPS[garbage.below(OPS.len())], "path": path, "value": values[garbage.below(values.len())]})
                })
                .collect();
            let schema = if round % 4 == 0 { &groups } else { &users };
            let Ok(ops) = parse_patch(&body(Value::Array(ops))) else {
                continue;
            };
            let mut resource = user();
            match apply_patch(&mut resource, &ops, schema) {
                Ok(()) => applied += 1,
                Err(e) => {
                    assert_eq!(e.status.as_u16(), 400, "{e}");
                    assert_eq!(resource, user());
                }
            }
        }
        assert!(
            applied > 200,
            "the generator should also produce valid patches ({applied})"
        );
    }
}
