//! The `/Groups` endpoints. A group's attributes other than `members` go through its
//! mapping like a User's; `members` never does: reads take them from the cache's
//! membership rows (and only when the response carries them — Entra ID asks with
//! `excludedAttributes=members`), and writes become member-level `add-values` /
//! `remove-values` changes, so a group of 50,000 changes one member per row touched.

use std::collections::{BTreeSet, HashMap};

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ScimError;
use super::list::{ListQuery, list, list_response};
use super::mapping::render::Meta;
use super::members::{self, MemberEdit};
use super::patch::{apply_patch, parse_patch};
use super::projection::Projection;
use super::request::{AuthorizedApp, ScimJson, scim_response};
use super::users::{bound, export_error, find_object, ready_for_reads, refuse_taken, written};
use super::{id, references};
use crate::app::groups::GroupBinding;
use crate::app::{App, Bound};
use crate::runtime::bindings::types::{
    AddChange, Attribute, AttributeChange, Change, UpdateChange, Value as TargetValue,
};
use crate::store::cache::CachedObject;

/// The app's groups, or a 404 when its connector has none.
fn groups(bound: &Bound) -> Result<&GroupBinding, ScimError> {
    bound.groups.as_ref().ok_or_else(|| {
        ScimError::not_found("this app's connector has no groups ([apps.NAME.groups])")
    })
}

fn endpoint(auth: &AuthorizedApp) -> String {
    format!("{}/Groups", auth.base_url)
}

/// The group of a SCIM id (cached or read through), or a 404.
async fn find_group(
    auth: &AuthorizedApp,
    bound: &Bound,
    scim_id: &str,
) -> Result<CachedObject, ScimError> {
    let binding = groups(bound)?;
    find_object(
        &auth.app,
        bound,
        (&binding.mapping.object_type, "group"),
        scim_id,
    )
    .await
}

/// A group as SCIM shows it; with its members when `with_members`.
async fn render(
    auth: &AuthorizedApp,
    bound: &Bound,
    cached: &CachedObject,
    with_members: bool,
) -> Result<Value, ScimError> {
    let binding = groups(bound)?;
    let endpoint = endpoint(auth);
    let mut resource = binding.mapping.render(
        &cached.object,
        &Meta {
            created: cached.created,
            modified: cached.modified,
            endpoint: &endpoint,
        },
    );
    if with_members {
        let members = member_values(auth, bound, binding, &cached.object.anchor).await?;
        if let Some(map) = resource.as_object_mut() {
            map.insert("members".into(), members);
        }
    }
    Ok(resource)
}

/// The member anchors of group `anchor`, from the cache's membership rows.
async fn member_anchors(
    bound: &Bound,
    binding: &GroupBinding,
    anchor: &str,
) -> Result<Vec<String>, ScimError> {
    bound
        .cache
        .members(&binding.mapping.object_type, anchor, &binding.members)
        .await
        .map_err(cache_failed)
}

/// The members of group `anchor` as SCIM lists them: users, and nested groups.
async fn member_values(
    auth: &AuthorizedApp,
    bound: &Bound,
    binding: &GroupBinding,
    anchor: &str,
) -> Result<Value, ScimError> {
    let members = bound
        .cache
        .member_kinds(&binding.mapping.object_type, anchor, &binding.members)
        .await
        .map_err(cache_failed)?;
    Ok(members
        .iter()
        .map(|member| {
            let id = id::encode(&member.anchor);
            let (endpoint, kind) = if member.group {
                ("Groups", "Group")
            } else {
                ("Users", "User")
            };
            json!({
                "value": id,
                "$ref": format!("{}/{endpoint}/{id}", auth.base_url),
                "type": kind,
            })
        })
        .collect())
}

fn cache_failed(e: anyhow::Error) -> ScimError {
    ScimError::internal(format!("reading the cache failed: {e:#}"))
}

/// `GET /Groups`.
pub async fn list_groups(
    auth: AuthorizedApp,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let binding = groups(bound)?;
    let query = ListQuery::parse(&params)?;
    ready_for_reads(bound)?;
    let with_members = query.projection.includes("members");
    let mut body = match query.filter.as_ref().map(members::member_filter) {
        Some(Err(e)) => return Err(e),
        Some(Ok(Some(member))) => groups_of_member(&auth, bound, &query, &member).await?,
        _ => list(&bound.cache, &binding.mapping, &query, &endpoint(&auth)).await?,
    };
    if with_members && let Some(page) = body["Resources"].as_array_mut() {
        for resource in page.iter_mut() {
            let Some(anchor) = resource["id"].as_str().and_then(id::decode) else {
                continue;
            };
            resource["members"] = member_values(&auth, bound, binding, &anchor).await?;
        }
    }
    Ok(scim_response(StatusCode::OK, &body))
}

/// The groups `members[value eq "<id>"]` selects, from the membership index.
async fn groups_of_member(
    auth: &AuthorizedApp,
    bound: &Bound,
    query: &ListQuery,
    member: &str,
) -> Result<Value, ScimError> {
    let binding = groups(bound)?;
    let anchors = match id::decode(member) {
        Some(anchor) => bound
            .cache
            .groups_of(&binding.mapping.object_type, &binding.members, &anchor)
            .await
            .map_err(cache_failed)?,
        None => Vec::new(),
    };
    let page_anchors = anchors.iter().skip(query.start_index - 1).take(query.count);
    let mut page = Vec::new();
    for anchor in page_anchors {
        if let Some(cached) = bound
            .cache
            .get(&binding.mapping.object_type, anchor)
            .await
            .map_err(cache_failed)?
        {
            let resource = render(auth, bound, &cached, false).await?;
            page.push(query.projection.apply(resource, &binding.mapping.schema));
        }
    }
    Ok(list_response(anchors.len(), query.start_index, page))
}

/// Adds a user's read-only `groups` (the groups listing it, from the membership index)
/// to its rendered `resource`.
pub(crate) async fn add_user_groups(
    auth: &AuthorizedApp,
    bound: &Bound,
    anchor: &str,
    resource: &mut Value,
) -> Result<(), ScimError> {
    let Some(binding) = bound.groups.as_ref() else {
        return Ok(());
    };
    let group_type = &binding.mapping.object_type;
    let belongings = bound
        .cache
        .belongings(group_type, &binding.members, anchor)
        .await
        .map_err(cache_failed)?;
    let mut listed = Vec::with_capacity(belongings.len());
    for group in belongings {
        let cached = bound
            .cache
            .get(group_type, &group.anchor)
            .await
            .map_err(cache_failed)?;
        let id = id::encode(&group.anchor);
        let mut entry = json!({
            "value": id,
            "$ref": format!("{}/Groups/{id}", auth.base_url),
            "type": if group.direct { "direct" } else { "indirect" },
        });
        if let Some(cached) = cached {
            let shown = binding.mapping.render(
                &cached.object,
                &Meta {
                    created: cached.created,
                    modified: cached.modified,
                    endpoint: "",
                },
            );
            if let Some(name) = shown.get("displayName") {
                entry["display"] = name.clone();
            }
        }
        listed.push(entry);
    }
    if !listed.is_empty()
        && let Some(map) = resource.as_object_mut()
    {
        map.insert("groups".into(), Value::Array(listed));
    }
    Ok(())
}

/// `GET /Groups/{id}`.
pub async fn get_group(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let binding = groups(bound)?;
    let projection = Projection::parse(
        query.get("attributes").map(String::as_str),
        query.get("excludedAttributes").map(String::as_str),
    )?;
    ready_for_reads(bound)?;
    let cached = find_group(&auth, bound, &params["id"]).await?;
    let resource = render(&auth, bound, &cached, projection.includes("members")).await?;
    Ok(scim_response(
        StatusCode::OK,
        &projection.apply(resource, &binding.mapping.schema),
    ))
}

/// The member references for SCIM ids of users (or, nested, groups) that must exist
/// (see [`references::require`]): a member is never silently dropped.
async fn existing_members(
    app: &App,
    bound: &Bound,
    ids: &[String],
) -> Result<Vec<TargetValue>, ScimError> {
    let binding = groups(bound)?;
    let types = binding.member_types();
    let mut found = Vec::with_capacity(ids.len());
    for scim_id in ids {
        let anchor = id::decode(scim_id).ok_or_else(|| {
            ScimError::invalid_value(format!("member '{scim_id}' is not a valid id"))
        })?;
        if let Err(missing) = references::require(app, bound, &types, &anchor, "member").await {
            // A group where only users may be members is a mistake to fix, not to retry.
            let group_type = &binding.mapping.object_type;
            if !binding.nested
                && matches!(app.lookup(bound, group_type, &anchor).await, Ok(Some(_)))
            {
                return Err(ScimError::invalid_value(format!(
                    "member '{scim_id}' is a group; this app's groups cannot contain groups"
                )));
            }
            return Err(missing);
        }
        found.push(TargetValue::Reference(anchor));
    }
    Ok(found)
}

/// Member references for SCIM ids being removed: no need for the users to exist.
fn removed_members(ids: &[String]) -> Vec<TargetValue> {
    ids.iter()
        .filter_map(|scim_id| id::decode(scim_id))
        .map(TargetValue::Reference)
        .collect()
}

fn members_attribute(binding: &GroupBinding, values: Vec<TargetValue>) -> Attribute {
    Attribute {
        name: binding.members.clone(),
        values,
    }
}

/// The connector changes member edits make.
async fn member_changes(
    app: &App,
    bound: &Bound,
    edits: Vec<MemberEdit>,
) -> Result<Vec<AttributeChange>, ScimError> {
    let binding = groups(bound)?;
    let mut changes = Vec::with_capacity(edits.len());
    for edit in edits {
        changes.push(match edit {
            MemberEdit::Add(ids) => AttributeChange::AddValues(members_attribute(
                binding,
                existing_members(app, bound, &ids).await?,
            )),
            MemberEdit::Remove(ids) => {
                AttributeChange::RemoveValues(members_attribute(binding, removed_members(&ids)))
            }
            MemberEdit::Clear => AttributeChange::Clear(binding.members.clone()),
            MemberEdit::Replace(ids) => AttributeChange::Replace(members_attribute(
                binding,
                existing_members(app, bound, &ids).await?,
            )),
        });
    }
    Ok(changes)
}

/// `body` without its `members`, and the member ids it listed.
fn without_members(body: &Value) -> Result<(Value, Option<Vec<String>>), ScimError> {
    let mut rest = body.clone();
    let listed = match rest.as_object_mut() {
        Some(map) => match map
            .keys()
            .find(|k| k.eq_ignore_ascii_case("members"))
            .cloned()
        {
            Some(key) => Some(members::ids(map.remove(&key).as_ref())?),
            None => None,
        },
        None => None,
    };
    Ok((rest, listed))
}

/// `POST /Groups`.
pub async fn create_group(
    auth: AuthorizedApp,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let binding = groups(bound)?;
    refuse_taken(
        bound,
        &binding.mapping,
        ("displayName", "group"),
        &body,
        &endpoint(&auth),
    )
    .await?;
    let (rest, listed) = without_members(&body)?;
    let mut attributes = binding.mapping.attributes_for_add(&rest)?;
    let listed = listed.unwrap_or_default();
    if !listed.is_empty() {
        attributes.push(members_attribute(
            binding,
            existing_members(&auth.app, bound, &listed).await?,
        ));
    }
    let change = Change::Add(AddChange {
        object_type: binding.mapping.object_type.clone(),
        attributes,
    });
    let object = auth.app.export(change).await.map_err(export_error)?;
    let cached = written(object)?;
    tracing::info!(app = %auth.app.name, id = %id::encode(&cached.object.anchor), "group created");
    Ok(scim_response(
        StatusCode::CREATED,
        &render(&auth, bound, &cached, true).await?,
    ))
}

/// Exports `changes` to a group; nothing when there are none.
async fn export_update(
    auth: &AuthorizedApp,
    cached: &CachedObject,
    changes: Vec<AttributeChange>,
) -> Result<(), ScimError> {
    if changes.is_empty() {
        return Ok(());
    }
    let change = Change::Update(UpdateChange {
        target: App::object_ref(&cached.object.object_type, &cached.object.anchor),
        changes,
    });
    auth.app.export(change).await.map_err(export_error)?;
    Ok(())
}

/// `PATCH /Groups/{id}`: member edits go to the target member by member; other
/// attributes as for users. Answers 204, as Entra ID expects.
pub async fn patch_group(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let binding = groups(bound)?;
    let (edits, others) = members::split(parse_patch(&body)?)?;
    ready_for_reads(bound)?;
    let cached = find_group(&auth, bound, &params["id"]).await?;
    let mut changes = Vec::new();
    if !others.is_empty() {
        let before = render(&auth, bound, &cached, false).await?;
        let mut after = before.clone();
        apply_patch(&mut after, &others, &binding.mapping.schema)?;
        changes = binding
            .mapping
            .changes(&before, &after, &cached.object.attributes)?;
    }
    changes.extend(member_changes(&auth.app, bound, edits).await?);
    export_update(&auth, &cached, changes).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /Groups/{id}`: the body replaces the group; its member list is compared with
/// the cached one and only the difference is sent.
pub async fn replace_group(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let binding = groups(bound)?;
    ready_for_reads(bound)?;
    let cached = find_group(&auth, bound, &params["id"]).await?;
    let (rest, listed) = without_members(&body)?;
    let before = render(&auth, bound, &cached, false).await?;
    let mut changes = binding
        .mapping
        .changes(&before, &rest, &cached.object.attributes)?;
    let current: BTreeSet<String> = member_anchors(bound, binding, &cached.object.anchor)
        .await?
        .into_iter()
        .collect();
    let wanted: Vec<String> = listed.unwrap_or_default();
    let wanted_anchors: BTreeSet<String> = wanted.iter().filter_map(|i| id::decode(i)).collect();
    let added: Vec<String> = wanted
        .iter()
        .filter(|i| id::decode(i).is_some_and(|a| !current.contains(&a)))
        .cloned()
        .collect();
    let removed: Vec<TargetValue> = current
        .difference(&wanted_anchors)
        .cloned()
        .map(TargetValue::Reference)
        .collect();
    if !added.is_empty() {
        changes.push(AttributeChange::AddValues(members_attribute(
            binding,
            existing_members(&auth.app, bound, &added).await?,
        )));
    }
    if !removed.is_empty() {
        changes.push(AttributeChange::RemoveValues(members_attribute(
            binding, removed,
        )));
    }
    export_update(&auth, &cached, changes).await?;
    let cached = find_group(&auth, bound, &params["id"]).await?;
    Ok(scim_response(
        StatusCode::OK,
        &render(&auth, bound, &cached, true).await?,
    ))
}

/// `DELETE /Groups/{id}`.
pub async fn delete_group(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    ready_for_reads(bound)?;
    let cached = find_group(&auth, bound, &params["id"]).await?;
    let change = Change::Delete(App::object_ref(
        &cached.object.object_type,
        &cached.object.anchor,
    ));
    auth.app.export(change).await.map_err(export_error)?;
    tracing::info!(app = %auth.app.name, id = %params["id"], "group deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
