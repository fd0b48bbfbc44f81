//! A group's `members` in PATCH requests, in every shape identity providers send them,
//! turned into member-level edits so no request reads or rewrites the whole list:
//!
//! | operation | edit |
//! |---|---|
//! | `{"op":"Add","path":"members","value":[{"value":"<id>"}]}` | add those members |
//! | `{"op":"Remove","path":"members","value":[{"value":"<id>"}]}` | remove those |
//! | `{"op":"remove","path":"members[value eq \"<id>\"]"}` (`or` of several) | remove those |
//! | `{"op":"Remove","path":"members"}` | remove every member |
//! | `{"op":"replace","path":"members","value":[...]}` | the list becomes exactly this |
//! | path-less `add` / `replace` whose value has `members` | as with the path |
//!
//! A member is given as `{"value": "<id>"}` (other keys ignored) or as the bare id.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::filter::{CompareOp, Filter};
use super::patch::{PatchOpKind, PatchOperation};

/// One edit of a group's members, by SCIM id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberEdit {
    /// Add these members.
    Add(Vec<String>),
    /// Remove these members.
    Remove(Vec<String>),
    /// Remove every member.
    Clear,
    /// The members become exactly these.
    Replace(Vec<String>),
}

/// Splits a PATCH's operations into edits of `members` and the operations on the other
/// attributes, keeping each group's order.
pub fn split(
    operations: Vec<PatchOperation>,
) -> Result<(Vec<MemberEdit>, Vec<PatchOperation>), ScimError> {
    let mut edits = Vec::new();
    let mut others = Vec::new();
    for operation in operations {
        match &operation.path {
            Some(path) if is_members(&path.attr.name) => {
                if path.attr.sub.is_some() {
                    return Err(ScimError::invalid_path(
                        "members are changed whole: use the path 'members' or \
                         'members[value eq \"<id>\"]'",
                    ));
                }
                edits.push(edit(&operation, path.filter.as_ref())?);
            }
            Some(_) => others.push(operation),
            None => {
                let mut rest = operation;
                if let Some(Value::Object(map)) = rest.value.as_mut()
                    && let Some(key) = map.keys().find(|k| is_members(k)).cloned()
                {
                    let listed = map.remove(&key);
                    edits.push(match rest.op {
                        PatchOpKind::Replace => MemberEdit::Replace(ids(listed.as_ref())?),
                        _ => MemberEdit::Add(ids(listed.as_ref())?),
                    });
                    if map.is_empty() {
                        continue;
                    }
                }
                others.push(rest);
            }
        }
    }
    Ok((edits, others))
}

fn is_members(name: &str) -> bool {
    name.eq_ignore_ascii_case("members")
}

/// The edit one operation on `members` (with an optional element filter) makes.
fn edit(operation: &PatchOperation, filter: Option<&Filter>) -> Result<MemberEdit, ScimError> {
    let value = operation.value.as_ref();
    match (operation.op, filter) {
        (PatchOpKind::Remove, Some(filter)) => Ok(MemberEdit::Remove(filtered_ids(filter)?)),
        (_, Some(_)) => Err(ScimError::invalid_path(
            "a filtered members path is only for remove; add members with the path 'members'",
        )),
        (PatchOpKind::Add, None) => Ok(MemberEdit::Add(ids(value)?)),
        (PatchOpKind::Replace, None) => Ok(MemberEdit::Replace(ids(value)?)),
        (PatchOpKind::Remove, None) => match value {
            None | Some(Value::Null) => Ok(MemberEdit::Clear),
            Some(listed) => Ok(MemberEdit::Remove(ids(Some(listed))?)),
        },
    }
}

/// The ids of a member list: `[{"value":"a"}, "b"]`, or one member alone.
pub fn ids(listed: Option<&Value>) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Value> = match listed {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(id) => Ok(id.clone()),
            Value::Object(member) => member_id(member),
            other => Err(ScimError::invalid_value(format!(
                "a member is {{\"value\": \"<id>\"}} or the id, not {other}"
            ))),
        })
        .collect()
}

fn member_id(member: &Map<String, Value>) -> Result<String, ScimError> {
    member
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("value"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| ScimError::invalid_value("a member needs a string 'value' (its id)"))
}

/// The ids a `members[...]` filter selects: `value eq "<id>"`, or several joined by `or`.
fn filtered_ids(filter: &Filter) -> Result<Vec<String>, ScimError> {
    match filter {
        Filter::Or(a, b) => {
            let mut found = filtered_ids(a)?;
            found.extend(filtered_ids(b)?);
            Ok(found)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: Value::String(id),
        } if path.name.eq_ignore_ascii_case("value") && path.sub.is_none() => Ok(vec![id.clone()]),
        _ => Err(ScimError::invalid_filter(
            "members are selected by value: members[value eq \"<id>\"], joined with or",
        )),
    }
}

/// The member id a list filter asks for: `members[value eq "<id>"]` or
/// `members.value eq "<id>"`; `None` when the filter does not mention members. A filter
/// that mentions members any other way is refused: answering it would mean reading every
/// group's whole list.
pub fn member_filter(filter: &Filter) -> Result<Option<String>, ScimError> {
    let simple = match filter {
        Filter::ValuePath { path, filter } if is_members(&path.name) => match &**filter {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: Value::String(id),
            } if path.name.eq_ignore_ascii_case("value") => Some(id.clone()),
            _ => None,
        },
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: Value::String(id),
        } if is_members(&path.name)
            && path
                .sub
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("value")) =>
        {
            Some(id.clone())
        }
        _ => None,
    };
    if simple.is_some() {
        return Ok(simple);
    }
    if mentions_members(filter) {
        return Err(ScimError::invalid_filter(
            "groups are filtered by member only as members[value eq \"<id>\"] on its own",
        ));
    }
    Ok(None)
}

fn mentions_members(filter: &Filter) -> bool {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => mentions_members(a) || mentions_members(b),
        Filter::Not(f) => mentions_members(f),
        Filter::Compare { path, .. } | Filter::Present(path) => is_members(&path.name),
        Filter::ValuePath { path, .. } => is_members(&path.name),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::filter::parse_filter;
    use crate::scim::patch::parse_patch;

    fn edits_of(operations: Value) -> (Vec<MemberEdit>, usize) {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        });
        let (edits, others) = split(parse_patch(&body).unwrap()).unwrap();
        (edits, others.len())
    }

    fn strings(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_shape_entra_and_okta_send() {
        let (edits, others) = edits_of(json!([
            {"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "c"}]},
            {"op": "remove", "path": "members[value eq \"d\"]"},
            {"op": "remove", "path": "members[value eq \"e\" or value eq \"f\"]"},
            {"op": "Replace", "path": "displayName", "value": "New"},
            {"op": "replace", "path": "members", "value": [{"value": "g", "display": "G"}]},
            {"op": "replace", "value": {"displayName": "Newer", "members": ["h"]}},
            {"op": "add", "value": {"members": [{"value": "i"}]}},
            {"op": "Remove", "path": "members"},
        ]));
        assert_eq!(
            edits,
            vec![
                MemberEdit::Add(strings(&["a", "b"])),
                MemberEdit::Remove(strings(&["c"])),
                MemberEdit::Remove(strings(&["d"])),
                MemberEdit::Remove(strings(&["e", "f"])),
                MemberEdit::Replace(strings(&["g"])),
                MemberEdit::Replace(strings(&["h"])),
                MemberEdit::Add(strings(&["i"])),
                MemberEdit::Clear,
            ]
        );
        assert_eq!(others, 2, "the two displayName operations stay");
    }

    #[test]
    fn malformed_member_operations_are_client_errors() {
        for operations in [
            json!([{"op": "add", "path": "members[value eq \"x\"]", "value": [{"value": "x"}]}]),
            json!([{"op": "remove", "path": "members[display eq \"x\"]"}]),
            json!([{"op": "add", "path": "members.value", "value": "x"}]),
            json!([{"op": "add", "path": "members", "value": [{"display": "x"}]}]),
            json!([{"op": "add", "path": "members", "value": [42]}]),
        ] {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": operations,
            });
            let error = parse_patch(&body).and_then(split).unwrap_err();
            assert_eq!(error.status.as_u16(), 400, "{operations}");
        }
    }

    #[test]
    fn list_filters_on_members_are_the_simple_forms_only() {
        let id = |text: &str| member_filter(&parse_filter(text).unwrap());
        assert_eq!(id("members[value eq \"u1\"]").unwrap(), Some("u1".into()));
        assert_eq!(id("members.value eq \"u2\"").unwrap(), Some("u2".into()));
        assert_eq!(id("displayName eq \"x\"").unwrap(), None);
        for refused in [
            "members[value eq \"u1\"] and displayName eq \"x\"",
            "members pr",
            "members[value sw \"u\"]",
        ] {
            assert_eq!(id(refused).unwrap_err().status.as_u16(), 400, "{refused}");
        }
    }
}
